import { afterAll, describe, expect, test } from "bun:test";
import { appendFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DstackClient } from "@phala/dstack-sdk";
import { appendRuntimeEvent, readRuntimeEvents } from "../../src/sim/guest-agent/attestation/runtime-events-file.ts";
import { startGuestAgent } from "../../src/sim/guest-agent/index.ts";

const dir = mkdtempSync(join(tmpdir(), "runtime-events-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(dir, `events-${n++}.log`);

describe("the emitted-events file", () => {
  test("round-trips, one JSON line per event with a base64 payload, mode 0600; missing means none", () => {
    const p = fresh();
    expect(readRuntimeEvents(p)).toEqual([]);
    appendRuntimeEvent(p, { event: "a", payload: new Uint8Array([1, 2]) });
    appendRuntimeEvent(p, { event: "b", payload: new Uint8Array() });
    expect(readRuntimeEvents(p)).toEqual([
      { event: "a", payload: new Uint8Array([1, 2]) },
      { event: "b", payload: new Uint8Array() },
    ]);
    expect(statSync(p).mode & 0o777).toBe(0o600);
  });

  test("a torn last line is dropped; a bad line before it is an error", () => {
    const p = fresh();
    appendRuntimeEvent(p, { event: "a", payload: new Uint8Array([1]) });
    appendFileSync(p, '{"event":"b","pay');
    expect(readRuntimeEvents(p).map((e) => e.event)).toEqual(["a"]);
    const q = fresh();
    writeFileSync(q, 'garbage\n{"event":"a","payload":""}\n');
    expect(() => readRuntimeEvents(q)).toThrow(":1: not a runtime event line");
  });

  test("an agent restarted under a running VM keeps RTMR3 and the emitted events", async () => {
    const eventsPath = fresh();
    const opts = {
      socketPath: join(dir, "d.sock"),
      keyRootPath: join(dir, "root.key"),
      runtimeEventsPath: eventsPath,
      vm: {
        appId: "aa".repeat(20),
        instanceId: "",
        composeHash: "cc".repeat(32),
        appCompose: "{}",
        osImageHash: "",
        deviceId: "ee".repeat(32),
        vmName: "x",
      },
    };
    const first = await startGuestAgent(opts);
    await new DstackClient(opts.socketPath).emitEvent("config", "v2");
    const before = await new DstackClient(opts.socketPath).getQuote("");
    await first.close();
    const second = await startGuestAgent(opts);
    try {
      const after = await new DstackClient(opts.socketPath).getQuote("");
      expect(after.replayRtmrs()).toEqual(before.replayRtmrs());
      expect(after.quote).toBe(before.quote);
      expect(JSON.parse(after.event_log).at(-1).event).toBe("config");
    } finally {
      await second.close();
    }
    // a new boot starts from the boot measurements again
    rmSync(eventsPath);
    const third = await startGuestAgent(opts);
    try {
      const rebooted = await new DstackClient(opts.socketPath).getQuote("");
      expect(rebooted.replayRtmrs()[3]).not.toBe(before.replayRtmrs()[3]);
    } finally {
      await third.close();
    }
  });
});
