import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import {
  DSTACK_RUNTIME_EVENT_TYPE,
  extendMr,
  replayRtmrs,
  runtimeEvent,
  runtimeEventDigest,
  runtimeEventPayload,
} from "../../../src/core/tdx/eventlog.ts";

const sha384 = (...b: Buffer[]) => createHash("sha384").update(Buffer.concat(b)).digest();
const ZERO = Buffer.alloc(48);

describe("runtime events", () => {
  test("v1 digest: sha384(le32(0x08000001) ‖ ':' ‖ name ‖ ':' ‖ payload)", () => {
    const expected = sha384(Buffer.from([0x01, 0x00, 0x00, 0x08]), Buffer.from(":app-id:"), Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    expect(runtimeEventDigest("app-id", Buffer.from("deadbeef", "hex"))).toEqual(expected);
  });

  test("an event goes to RTMR3 with hex digest and payload", () => {
    const e = runtimeEvent("compose-hash", Buffer.from([0xab]));
    expect(e).toEqual({
      imr: 3,
      event_type: DSTACK_RUNTIME_EVENT_TYPE,
      digest: runtimeEventDigest("compose-hash", Buffer.from([0xab])).toString("hex"),
      event: "compose-hash",
      event_payload: "ab",
    });
    expect(runtimeEventPayload([e], "compose-hash")).toBe("ab");
    expect(runtimeEventPayload([e], "app-id")).toBeUndefined();
  });
});

describe("replay", () => {
  test("an empty log is four zero registers", () => {
    const z = "0".repeat(96);
    expect(replayRtmrs([])).toEqual([z, z, z, z]);
  });

  test("each register is the chain of its own events, in order", () => {
    const a = runtimeEvent("a", new Uint8Array());
    const b = runtimeEvent("b", new Uint8Array([1]));
    const boot = { imr: 1, event_type: 6, digest: "77".repeat(48), event: "k", event_payload: "" };
    const [r0, r1, r2, r3] = replayRtmrs([a, boot, b]);
    expect(r0).toBe("0".repeat(96));
    expect(r2).toBe("0".repeat(96));
    expect(r1).toBe(sha384(ZERO, Buffer.from(boot.digest, "hex")).toString("hex"));
    const afterA = sha384(ZERO, Buffer.from(a.digest, "hex"));
    expect(r3).toBe(sha384(afterA, Buffer.from(b.digest, "hex")).toString("hex"));
    expect(replayRtmrs([b, a])[3]).not.toBe(r3);
  });

  test("a short digest is zero-padded to 48 bytes, a long one and a bad imr are errors", () => {
    expect(extendMr(ZERO, Buffer.from([1, 2]))).toEqual(sha384(ZERO, Buffer.concat([Buffer.from([1, 2]), Buffer.alloc(46)])));
    expect(() => extendMr(ZERO, Buffer.alloc(49))).toThrow("at most 48");
    expect(() => replayRtmrs([{ imr: 4, event_type: 0, digest: "", event: "x", event_payload: "" }])).toThrow("not 0..3");
  });
});
