/**
 * One simulated CVM's attestation state: the event log (measured boot, then
 * whatever the app emits), the RTMRs it replays to, the app key the simulated
 * KMS released, and the quotes, info and keys built from them.
 */
import { hexOf } from "../../../core/keys/hex.ts";
import { type AppKey, deriveAppKey } from "../../../core/keys/key-chain.ts";
import { replayRtmrs, runtimeEvent, type TdxEvent } from "../../../core/tdx/eventlog.ts";
import { mrAggregatedOf } from "../../../core/tdx/measurements.ts";
import { encodeSimulatedQuote } from "../../../core/tdx/quote.ts";
import { padReportData } from "../../../core/tdx/report-data.ts";
import { p256PublicKey, spki } from "../../../core/x509/cert.ts";
import type { GuestVmInfo } from "../types.ts";
import type { KmsRootKeys } from "./key-root.ts";
import { type MeasuredBoot, measuredBoot } from "./measured-boot.ts";
import type { EmittedEvent } from "./runtime-events-file.ts";

/** TD attributes (SEPT_VE_DISABLE) and XFAM as in a real dstack 0.5 guest's quote. */
const TD_PROFILE = { tdAttributes: "0000001000000000", xfam: "e702060000000000" };

export class GuestState {
  readonly boot: MeasuredBoot;
  #appKey?: AppKey;
  readonly events: TdxEvent[];

  /** emitted: what the app emitted earlier in this boot; persist: keeps a new one (before it counts) */
  constructor(
    readonly vm: GuestVmInfo,
    readonly root: KmsRootKeys,
    emitted: readonly EmittedEvent[] = [],
    private readonly persist?: (e: EmittedEvent) => void,
  ) {
    this.boot = measuredBoot(vm, hexOf(spki(p256PublicKey(root.ca))));
    this.events = [...this.boot.events, ...emitted.map((e) => runtimeEvent(e.event, e.payload))];
  }

  /**
   * The app key the KMS released, derived at the first use: the first secp256k1
   * operation of a process builds the curve's tables (~100 ms), which stays off the boot.
   */
  get appKey(): AppKey {
    this.#appKey ??= deriveAppKey(this.root.k256, Buffer.from(this.vm.appId, "hex"));
    return this.#appKey;
  }

  /** EmitEvent: append to the log and so extend RTMR3. */
  emit(name: string, payload: Uint8Array): void {
    if (!name) throw new Error("event name must not be empty");
    this.persist?.({ event: name, payload });
    this.events.push(runtimeEvent(name, payload));
  }

  report() {
    const [rtmr0, rtmr1, rtmr2, rtmr3] = replayRtmrs(this.events);
    return { mrTd: this.boot.mrTd, rtmr0, rtmr1, rtmr2, rtmr3 };
  }

  /** A simulated TDX quote over report data of at most 64 bytes (zero-padded). */
  quote(reportData: Uint8Array): { quote: Uint8Array; reportData: Uint8Array } {
    const padded = padReportData(reportData);
    const r = this.report();
    return {
      quote: encodeSimulatedQuote({ mrTd: r.mrTd, rtmrs: [r.rtmr0, r.rtmr1, r.rtmr2, r.rtmr3], reportData: padded, ...TD_PROFILE }),
      reportData: padded,
    };
  }

  eventLogJson(): string {
    return JSON.stringify(this.events);
  }

  /** tcb_info as the guest's Info gives it: pretty JSON, keys sorted. */
  tcbInfo(): string {
    const r = this.report();
    return JSON.stringify(
      {
        app_compose: this.vm.appCompose,
        compose_hash: this.vm.composeHash,
        device_id: this.vm.deviceId,
        event_log: this.events,
        mr_aggregated: mrAggregatedOf(r),
        mrtd: r.mrTd,
        os_image_hash: this.vm.osImageHash,
        rtmr0: r.rtmr0,
        rtmr1: r.rtmr1,
        rtmr2: r.rtmr2,
        rtmr3: r.rtmr3,
      },
      null,
      2,
    );
  }
}
