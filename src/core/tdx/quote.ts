/**
 * TDX quote v4 layout (Intel TDX DCAP quote format): a 48-byte header, the
 * 584-byte TD report body (TDREPORT 1.0 fields: MRTD, RTMR0..3, REPORTDATA, …),
 * then a u32 length and the signature data (ECDSA signature, attestation key,
 * certification data type 6 = QE report certification data).
 *
 * encodeSimulatedQuote builds a structurally valid quote whose signature data is
 * fake: zero signature and key, zero QE report, and a PCK "certificate chain"
 * that is a plain-text marker. The header's user data carries SIM_QUOTE_MARKER,
 * so anyone can tell a simulated quote from a real one (parseTdxQuote.simulated).
 */

export const TDX_QUOTE_VERSION = 4;
export const ATT_KEY_TYPE_ECDSA_P256 = 2;
export const TEE_TYPE_TDX = 0x81;
export const SIM_QUOTE_MARKER = "DSTACK-VMM-SIM";
export const SIM_CERT_DATA = "dstack-vmm-sim: simulated quote, no TEE, no Intel signature, no PCK certificate chain";

const HEADER_BYTES = 48;
const BODY_BYTES = 584;
const MR = 48;

/** Field layout of the TD report body: name, size (bytes), in order. */
const BODY_FIELDS = [
  ["teeTcbSvn", 16],
  ["mrSeam", MR],
  ["mrSignerSeam", MR],
  ["seamAttributes", 8],
  ["tdAttributes", 8],
  ["xfam", 8],
  ["mrTd", MR],
  ["mrConfigId", MR],
  ["mrOwner", MR],
  ["mrOwnerConfig", MR],
  ["rtmr0", MR],
  ["rtmr1", MR],
  ["rtmr2", MR],
  ["rtmr3", MR],
  ["reportData", 64],
] as const;

type BodyField = (typeof BODY_FIELDS)[number][0];

/** The TD report body, every field lowercase hex. */
export type TdReport = Record<BodyField, string>;

export interface ParsedTdxQuote {
  version: number;
  attKeyType: number;
  teeType: number;
  qeVendorId: string;
  userData: string;
  report: TdReport;
  /** the signature data, undecoded */
  signatureData: Uint8Array;
  /** true when the header carries SIM_QUOTE_MARKER */
  simulated: boolean;
}

export interface SimulatedQuoteInput {
  mrTd: string;
  rtmrs: readonly [string, string, string, string];
  /** at most 64 bytes, zero-padded */
  reportData: Uint8Array;
  /** optional TD attributes / XFAM (8 bytes hex each); zero by default */
  tdAttributes?: string;
  xfam?: string;
}

function hexField(name: string, hex: string, size: number): Buffer {
  const b = Buffer.from(hex, "hex");
  if (b.length !== size || b.toString("hex") !== hex.toLowerCase()) throw new Error(`${name} must be ${size} bytes of hex`);
  return b;
}

export function encodeSimulatedQuote(q: SimulatedQuoteInput): Uint8Array {
  if (q.reportData.length > 64) throw new Error(`report data is at most 64 bytes, got ${q.reportData.length}`);
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt16LE(TDX_QUOTE_VERSION, 0);
  header.writeUInt16LE(ATT_KEY_TYPE_ECDSA_P256, 2);
  header.writeUInt32LE(TEE_TYPE_TDX, 4);
  // bytes 8..11 QE/PCE SVN, 12..27 QE vendor id: zero (no Intel QE produced this)
  header.write(SIM_QUOTE_MARKER, 28, "ascii");

  const given: Partial<Record<BodyField, string>> = {
    mrTd: q.mrTd,
    rtmr0: q.rtmrs[0],
    rtmr1: q.rtmrs[1],
    rtmr2: q.rtmrs[2],
    rtmr3: q.rtmrs[3],
    tdAttributes: q.tdAttributes,
    xfam: q.xfam,
  };
  const body = Buffer.alloc(BODY_BYTES);
  let off = 0;
  for (const [name, size] of BODY_FIELDS) {
    const v = given[name];
    if (v !== undefined) body.set(hexField(name, v, size), off);
    off += size;
  }
  body.set(q.reportData, BODY_BYTES - 64);

  const marker = Buffer.from(SIM_CERT_DATA, "ascii");
  const inner = Buffer.alloc(2 + 4);
  inner.writeUInt16LE(5, 0); // PCK cert chain
  inner.writeUInt32LE(marker.length, 2);
  const qeCert = Buffer.concat([Buffer.alloc(384 + 64), Buffer.from([0, 0]), inner, marker]); // QE report, its signature, empty QE auth data
  const certHead = Buffer.alloc(6);
  certHead.writeUInt16LE(6, 0); // QE report certification data
  certHead.writeUInt32LE(qeCert.length, 2);
  const sig = Buffer.concat([Buffer.alloc(64 + 64), certHead, qeCert]); // zero ECDSA signature and attestation key
  const sigLen = Buffer.alloc(4);
  sigLen.writeUInt32LE(sig.length);
  return new Uint8Array(Buffer.concat([header, body, sigLen, sig]));
}

export function parseTdxQuote(bytes: Uint8Array): ParsedTdxQuote {
  const b = Buffer.from(bytes);
  if (b.length < HEADER_BYTES + BODY_BYTES + 4)
    throw new Error(`a TDX quote is at least ${HEADER_BYTES + BODY_BYTES + 4} bytes, got ${b.length}`);
  const version = b.readUInt16LE(0);
  const teeType = b.readUInt32LE(4);
  if (version !== TDX_QUOTE_VERSION) throw new Error(`unsupported quote version ${version} (expected ${TDX_QUOTE_VERSION})`);
  if (teeType !== TEE_TYPE_TDX) throw new Error(`not a TDX quote (tee type 0x${teeType.toString(16)})`);
  const report = {} as TdReport;
  let off = HEADER_BYTES;
  for (const [name, size] of BODY_FIELDS) {
    report[name] = b.subarray(off, off + size).toString("hex");
    off += size;
  }
  const sigLen = b.readUInt32LE(off);
  off += 4;
  // quotes from the TDX driver may carry zero padding after the signature data
  if (b.length < off + sigLen) throw new Error(`quote signature data length ${sigLen} exceeds the ${b.length - off} bytes that follow`);
  const userData = b.subarray(28, 48);
  return {
    version,
    attKeyType: b.readUInt16LE(2),
    teeType,
    qeVendorId: b.subarray(12, 28).toString("hex"),
    userData: userData.toString("hex"),
    report,
    signatureData: new Uint8Array(b.subarray(off, off + sigLen)),
    simulated: userData.subarray(0, SIM_QUOTE_MARKER.length).toString("ascii") === SIM_QUOTE_MARKER,
  };
}
