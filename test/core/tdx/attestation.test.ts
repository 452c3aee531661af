import { describe, expect, test } from "bun:test";
import { compact, decodeTdxAttestationV0, encodeTdxAttestationV0 } from "../../../src/core/tdx/attestation.ts";
import { runtimeEvent } from "../../../src/core/tdx/eventlog.ts";

describe("SCALE compact lengths", () => {
  test("the four modes", () => {
    expect([...compact(0)]).toEqual([0]);
    expect([...compact(63)]).toEqual([252]);
    expect([...compact(64)]).toEqual([1, 1]);
    expect([...compact(16383)]).toEqual([0xfd, 0xff]);
    expect([...compact(16384)]).toEqual([2, 0, 1, 0]);
    expect([...compact(2 ** 30)]).toEqual([3, 0, 0, 0, 0x40]);
  });
});

describe("legacy TDX attestation (V0)", () => {
  const a = {
    quote: new Uint8Array(700).fill(5),
    eventLog: [
      { imr: 0, event_type: 6, digest: "aa".repeat(48), event: "boot", event_payload: "" },
      runtimeEvent("app-id", Buffer.alloc(20, 1)),
    ],
    runtimeEvents: [{ event: "app-id", payload: new Uint8Array(20).fill(1) }],
    reportData: new Uint8Array(64).fill(2),
    config: '{"os_image_hash":"ab"}',
  };

  test("starts with V0 and DstackTdx, then the quote's compact length; round-trips", () => {
    const b = encodeTdxAttestationV0(a);
    expect([...b.subarray(0, 4)]).toEqual([0, 0, ...compact(700)]);
    expect(decodeTdxAttestationV0(b)).toEqual(a);
  });

  test("refuses report data that is not 64 bytes, truncated or trailing bytes, other versions", () => {
    expect(() => encodeTdxAttestationV0({ ...a, reportData: new Uint8Array(63) })).toThrow("64 bytes");
    const b = encodeTdxAttestationV0(a);
    expect(() => decodeTdxAttestationV0(b.subarray(0, b.length - 1))).toThrow("truncated");
    expect(() => decodeTdxAttestationV0(Buffer.concat([b, Buffer.from([0])]))).toThrow("trailing");
    expect(() => decodeTdxAttestationV0(Buffer.concat([Buffer.from([1]), b.subarray(1)]))).toThrow("V0");
  });
});
