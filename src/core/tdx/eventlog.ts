/**
 * The TDX event log as dstack's guest agent exposes it (JSON array of
 * `{imr, event_type, digest, event, event_payload}`, bytes as lowercase hex) and
 * the replay that turns it into RTMR values: RTMR[i] starts at 48 zero bytes and
 * each event of that register extends it, mr = sha384(mr ‖ digest).
 *
 * dstack runtime events (RTMR3: app-id, compose-hash, … and what apps emit) have
 * event type 0x08000001 and the v1 digest sha384(le32(type) ‖ ":" ‖ name ‖ ":" ‖ payload).
 *
 * Upstream: Dstack-TEE/dstack: dstack/cc-eventlog/src/runtime_events.rs, dstack/cc-eventlog/src/tdx.rs.
 */
import { createHash } from "node:crypto";

export const DSTACK_RUNTIME_EVENT_TYPE = 0x08000001;
export const RTMR_COUNT = 4;
const MR_BYTES = 48;

export interface TdxEvent {
  /** measurement register index, 0-based (RTMR0..3) */
  imr: number;
  event_type: number;
  /** sha384 digest extended into the register, 96 hex chars */
  digest: string;
  event: string;
  /** hex */
  event_payload: string;
}

export type Rtmrs = [string, string, string, string];

const sha384 = (...parts: Uint8Array[]) => {
  const h = createHash("sha384");
  for (const p of parts) h.update(p);
  return h.digest();
};

/** The v1 digest of a dstack runtime event. */
export function runtimeEventDigest(name: string, payload: Uint8Array): Buffer {
  const type = Buffer.alloc(4);
  type.writeUInt32LE(DSTACK_RUNTIME_EVENT_TYPE);
  return sha384(type, Buffer.from(":"), Buffer.from(name, "utf8"), Buffer.from(":"), payload);
}

/** A dstack runtime event, as the guest appends it to RTMR3's log. */
export function runtimeEvent(name: string, payload: Uint8Array): TdxEvent {
  return {
    imr: 3,
    event_type: DSTACK_RUNTIME_EVENT_TYPE,
    digest: runtimeEventDigest(name, payload).toString("hex"),
    event: name,
    event_payload: Buffer.from(payload).toString("hex"),
  };
}

/** One extend: sha384(mr ‖ digest), a digest shorter than 48 bytes zero-padded (what TDX does). */
export function extendMr(mr: Uint8Array, digest: Uint8Array): Buffer {
  if (mr.length !== MR_BYTES) throw new Error(`a measurement register is ${MR_BYTES} bytes, got ${mr.length}`);
  if (digest.length > MR_BYTES) throw new Error(`an RTMR digest is at most ${MR_BYTES} bytes, got ${digest.length}`);
  const d = Buffer.alloc(MR_BYTES);
  d.set(digest);
  return sha384(mr, d);
}

/** RTMR0..3 (hex) that the log replays to. */
export function replayRtmrs(events: readonly TdxEvent[]): Rtmrs {
  const mrs: Buffer[] = Array.from({ length: RTMR_COUNT }, () => Buffer.alloc(MR_BYTES));
  for (const e of events) {
    if (!Number.isInteger(e.imr) || e.imr < 0 || e.imr >= RTMR_COUNT)
      throw new Error(`event ${JSON.stringify(e.event)}: imr ${e.imr} is not 0..3`);
    mrs[e.imr] = extendMr(mrs[e.imr]!, Buffer.from(e.digest, "hex"));
  }
  return mrs.map((m) => m.toString("hex")) as Rtmrs;
}

/** The payload of the first runtime event with this name (hex), or undefined. */
export function runtimeEventPayload(events: readonly TdxEvent[], name: string): string | undefined {
  return events.find((e) => e.event_type === DSTACK_RUNTIME_EVENT_TYPE && e.event === name)?.event_payload;
}
