/**
 * dstack's legacy versioned attestation (VersionedAttestation::V0), the bytes
 * Attest returns on a TDX guest: SCALE encoding of
 *   0x00 (V0) ‖ Attestation { quote: AttestationQuote::DstackTdx (0x00) { quote: Vec<u8>,
 *   event_log: Vec<TdxEvent{imr u32, event_type u32, digest Vec<u8>, event String, event_payload Vec<u8>}> },
 *   runtime_events: Vec<RuntimeEvent{event String, payload Vec<u8>}>, report_data [u8; 64], config String }.
 * SCALE: little-endian integers; vectors and strings prefixed by a compact length.
 *
 * Upstream: Dstack-TEE/dstack: dstack/dstack-attest/src/attestation.rs.
 */
import type { TdxEvent } from "./eventlog.ts";

export interface TdxAttestation {
  quote: Uint8Array;
  eventLog: TdxEvent[];
  runtimeEvents: { event: string; payload: Uint8Array }[];
  reportData: Uint8Array;
  /** the vm_config JSON */
  config: string;
}

export function compact(n: number): Buffer {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`compact: ${n} is not a length`);
  if (n < 1 << 6) return Buffer.from([n << 2]);
  if (n < 1 << 14) {
    const b = Buffer.alloc(2);
    b.writeUInt16LE((n << 2) | 1);
    return b;
  }
  if (n < 2 ** 30) {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(((n << 2) | 2) >>> 0);
    return b;
  }
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.push(v & 0xff);
  return Buffer.from([((bytes.length - 4) << 2) | 3, ...bytes]);
}

const vecU8 = (b: Uint8Array) => Buffer.concat([compact(b.length), b]);
const str = (s: string) => vecU8(Buffer.from(s, "utf8"));
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
};
const hex = (h: string) => Buffer.from(h, "hex");

export function encodeTdxAttestationV0(a: TdxAttestation): Uint8Array {
  if (a.reportData.length !== 64) throw new Error(`report data is 64 bytes, got ${a.reportData.length}`);
  const events = a.eventLog.map((e) =>
    Buffer.concat([u32(e.imr), u32(e.event_type), vecU8(hex(e.digest)), str(e.event), vecU8(hex(e.event_payload))]),
  );
  const runtime = a.runtimeEvents.map((e) => Buffer.concat([str(e.event), vecU8(e.payload)]));
  return new Uint8Array(
    Buffer.concat([
      Buffer.from([0x00, 0x00]), // V0, DstackTdx
      vecU8(a.quote),
      compact(events.length),
      ...events,
      compact(runtime.length),
      ...runtime,
      a.reportData,
      str(a.config),
    ]),
  );
}

class Reader {
  off = 0;
  constructor(readonly b: Buffer) {}
  take(n: number): Buffer {
    if (this.off + n > this.b.length) throw new Error("attestation: truncated");
    const out = this.b.subarray(this.off, this.off + n);
    this.off += n;
    return out;
  }
  u8 = () => this.take(1)[0]!;
  u32 = () => this.take(4).readUInt32LE();
  compact(): number {
    const first = this.b[this.off];
    if (first === undefined) throw new Error("attestation: truncated");
    const mode = first & 3;
    if (mode === 0) return this.u8() >> 2;
    if (mode === 1) return this.take(2).readUInt16LE() >> 2;
    if (mode === 2) return this.take(4).readUInt32LE() >>> 2;
    const len = (this.u8() >> 2) + 4;
    const bytes = this.take(len);
    let n = 0;
    for (let i = len - 1; i >= 0; i--) n = n * 256 + bytes[i]!;
    if (!Number.isSafeInteger(n)) throw new Error("attestation: length too large");
    return n;
  }
  vec = () => this.take(this.compact());
  str = () => this.vec().toString("utf8");
}

export function decodeTdxAttestationV0(bytes: Uint8Array): TdxAttestation {
  const r = new Reader(Buffer.from(bytes));
  if (r.u8() !== 0) throw new Error("attestation: not a V0 (legacy) attestation");
  if (r.u8() !== 0) throw new Error("attestation: not a DstackTdx quote");
  const quote = new Uint8Array(r.vec());
  const eventLog = Array.from({ length: r.compact() }, () => ({
    imr: r.u32(),
    event_type: r.u32(),
    digest: r.vec().toString("hex"),
    event: r.str(),
    event_payload: r.vec().toString("hex"),
  }));
  const runtimeEvents = Array.from({ length: r.compact() }, () => ({ event: r.str(), payload: new Uint8Array(r.vec()) }));
  const reportData = new Uint8Array(r.take(64));
  const config = r.str();
  if (r.off !== r.b.length) throw new Error(`attestation: ${r.b.length - r.off} trailing bytes`);
  return { quote, eventLog, runtimeEvents, reportData, config };
}
