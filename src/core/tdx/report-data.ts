/**
 * Report data for a quote. The dstack API takes at most 64 bytes and pads with
 * zeros (a longer one is an error, "Report data is too long"); tappd's TdxQuote
 * hashes `<prefix>:<content>` (prefix "app-data" by default) with a chosen
 * algorithm, or passes exactly 64 bytes through with "raw".
 *
 * Upstream: Dstack-TEE/dstack: dstack/dstack-attest/src/attestation.rs (QuoteContentType), dstack/guest-agent/src/rpc_service.rs.
 */
import { createHash } from "node:crypto";
import { keccak_256, keccak_384, keccak_512 } from "@noble/hashes/sha3";

export const REPORT_DATA_BYTES = 64;
export const DEFAULT_HASH_ALGORITHM = "sha512";
export const DEFAULT_QUOTE_PREFIX = "app-data";

export function padReportData(data: Uint8Array): Uint8Array {
  if (data.length > REPORT_DATA_BYTES) throw new Error("Report data is too long");
  const out = new Uint8Array(REPORT_DATA_BYTES);
  out.set(data);
  return out;
}

const NODE_HASHES: Record<string, string> = {
  sha256: "sha256",
  sha384: "sha384",
  sha512: "sha512",
  "sha3-256": "sha3-256",
  "sha3-384": "sha3-384",
  "sha3-512": "sha3-512",
};
const KECCAK: Record<string, (m: Uint8Array) => Uint8Array> = { keccak256: keccak_256, keccak384: keccak_384, keccak512: keccak_512 };

/** tappd's report data: hash(prefix ‖ ":" ‖ content) zero-padded to 64 bytes, or content itself for "raw". */
export function tappdReportData(content: Uint8Array, hashAlgorithm: string, prefix: string): Uint8Array {
  const algo = hashAlgorithm || DEFAULT_HASH_ALGORITHM;
  if (algo === "raw") {
    if (content.length !== REPORT_DATA_BYTES) throw new Error("invalid content length");
    return new Uint8Array(content);
  }
  const msg = Buffer.concat([Buffer.from(`${prefix || DEFAULT_QUOTE_PREFIX}:`, "utf8"), content]);
  const node = NODE_HASHES[algo];
  const keccak = KECCAK[algo];
  if (!node && !keccak) throw new Error("invalid hash algorithm");
  return padReportData(node ? createHash(node).update(msg).digest() : keccak!(msg));
}
