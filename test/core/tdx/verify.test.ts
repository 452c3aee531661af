import { describe, expect, test } from "bun:test";
import { replayRtmrs, runtimeEvent, type TdxEvent } from "../../../src/core/tdx/eventlog.ts";
import { encodeSimulatedQuote } from "../../../src/core/tdx/quote.ts";
import { checkQuote } from "../../../src/core/tdx/verify.ts";

const log: TdxEvent[] = [
  { imr: 0, event_type: 6, digest: "11".repeat(48), event: "fw", event_payload: "" },
  runtimeEvent("app-id", Buffer.alloc(20, 0xaa)),
  runtimeEvent("compose-hash", Buffer.alloc(32, 0xcc)),
  runtimeEvent("instance-id", Buffer.alloc(20, 0xbb)),
  runtimeEvent("key-provider", Buffer.from('{"name":"kms","id":"ab"}')),
];
const quoteFor = (events: TdxEvent[], reportData = Buffer.from("rd")) =>
  encodeSimulatedQuote({ mrTd: "0f".repeat(48), rtmrs: replayRtmrs(events), reportData });

describe("checkQuote", () => {
  test("a quote whose log replays: the app identity measured into RTMR3", () => {
    const c = checkQuote(quoteFor(log), log, Buffer.from("rd"));
    expect(c).toMatchObject({
      simulated: true,
      appId: "aa".repeat(20),
      composeHash: "cc".repeat(32),
      instanceId: "bb".repeat(20),
      osImageHash: "",
      keyProvider: { name: "kms", id: "ab" },
    });
    expect(c.mrAggregated).toHaveLength(64);
  });

  test("refuses other report data, a log that does not replay, and a runtime event whose digest is not its payload's", () => {
    expect(() => checkQuote(quoteFor(log), log, Buffer.from("other"))).toThrow("report data");
    expect(() => checkQuote(quoteFor(log), log.slice(0, -1))).toThrow("RTMR3");
    expect(() => checkQuote(quoteFor(log), [{ ...log[0]!, digest: "22".repeat(48) }, ...log.slice(1)])).toThrow("RTMR0");
    const forged = [...log.slice(0, -1), { ...log.at(-1)!, event_payload: Buffer.from('{"name":"none"}').toString("hex") }];
    expect(() => checkQuote(quoteFor(log), forged)).toThrow("key-provider");
  });
});
