/**
 * What a relying party can check of a dstack TDX quote without Intel's
 * collateral: the quote parses, its report data is the expected one, the event
 * log replays to its RTMRs (every runtime event's digest recomputed from its
 * payload), and then the app identity the log measured into RTMR3. The quote's
 * signature is NOT checked here: that needs DCAP (and a simulated quote has
 * none; `simulated` says which kind this is).
 */
import { DSTACK_RUNTIME_EVENT_TYPE, replayRtmrs, runtimeEventDigest, runtimeEventPayload, type TdxEvent } from "./eventlog.ts";
import { mrAggregatedOf } from "./measurements.ts";
import { parseTdxQuote, type TdReport } from "./quote.ts";

export interface CheckedQuote {
  simulated: boolean;
  report: TdReport;
  mrAggregated: string;
  /** hex, "" when the log does not say */
  appId: string;
  composeHash: string;
  instanceId: string;
  osImageHash: string;
  /** the key-provider event's JSON, parsed; undefined without one */
  keyProvider?: unknown;
}

export function checkQuote(quote: Uint8Array, eventLog: readonly TdxEvent[], expectedReportData?: Uint8Array): CheckedQuote {
  const q = parseTdxQuote(quote);
  if (expectedReportData) {
    const want = Buffer.alloc(64);
    Buffer.from(expectedReportData).copy(want);
    if (q.report.reportData !== want.toString("hex")) throw new Error("the quote's report data is not the expected one");
  }
  for (const e of eventLog) {
    if (e.event_type !== DSTACK_RUNTIME_EVENT_TYPE) continue;
    if (runtimeEventDigest(e.event, Buffer.from(e.event_payload, "hex")).toString("hex") !== e.digest)
      throw new Error(`runtime event ${JSON.stringify(e.event)}: its digest is not that of its payload`);
  }
  const rtmrs = replayRtmrs(eventLog);
  rtmrs.forEach((mr, i) => {
    if (mr !== q.report[`rtmr${i}` as "rtmr0"]) throw new Error(`the event log does not replay to the quote's RTMR${i}`);
  });
  const payload = (name: string) => runtimeEventPayload(eventLog, name) ?? "";
  const kp = payload("key-provider");
  return {
    simulated: q.simulated,
    report: q.report,
    mrAggregated: mrAggregatedOf(q.report),
    appId: payload("app-id"),
    composeHash: payload("compose-hash"),
    instanceId: payload("instance-id"),
    osImageHash: payload("os-image-hash"),
    keyProvider: kp ? JSON.parse(Buffer.from(kp, "hex").toString("utf8")) : undefined,
  };
}
