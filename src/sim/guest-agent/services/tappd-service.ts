/**
 * tappd's legacy Tappd service (tappd.sock, under /prpc/, "Tappd." optional):
 * DeriveKey (a P-256 TLS key derived from the app key and path, or random),
 * DeriveK256Key, TdxQuote (report data hashed with a prefix), RawQuote, Info, Version.
 *
 * Upstream: Dstack-TEE/dstack: dstack/guest-agent/src/rpc_service.rs (InternalRpcHandlerV0).
 */
import { deriveKey } from "../../../core/keys/kdf.ts";
import { DEFAULT_HASH_ALGORITHM, DEFAULT_QUOTE_PREFIX, tappdReportData } from "../../../core/tdx/report-data.ts";
import type { GuestState } from "../attestation/state.ts";
import { bool, bytes, RpcError, type Service, str, strs } from "../rpc.ts";
import { getKey, quoteOf } from "./dstack-service.ts";
import { appInfo } from "./info.ts";
import { type GuestCa, randomP256Key } from "./tls.ts";
import { GUEST_AGENT_VERSION } from "./version.ts";

function tdxQuote(s: GuestState, content: Uint8Array, hashAlgorithm: string, prefix: string) {
  const algo = hashAlgorithm || DEFAULT_HASH_ALGORITHM;
  let reportData: Uint8Array;
  try {
    reportData = tappdReportData(content, algo, prefix);
  } catch (e) {
    throw new RpcError((e as Error).message);
  }
  return {
    quote: Buffer.from(quoteOf(s, reportData).quote).toString("hex"),
    event_log: s.eventLogJson(),
    hash_algorithm: algo,
    prefix: algo === "raw" ? "" : prefix || DEFAULT_QUOTE_PREFIX,
  };
}

export function tappdService(s: GuestState, ca: GuestCa): Service {
  return {
    DeriveKey: (a) =>
      ca.issue({
        key: bool(a, "random_seed") ? randomP256Key() : deriveKey(s.appKey.key, [Buffer.from(str(a, "path"), "utf8")]),
        subject: str(a, "subject"),
        altNames: strs(a, "alt_names"),
        raTls: bool(a, "usage_ra_tls"),
        serverAuth: bool(a, "usage_server_auth"),
        clientAuth: bool(a, "usage_client_auth"),
      }),
    DeriveK256Key: (a) => {
      const k = getKey(s, a);
      return { k256_key: k.key, k256_signature_chain: k.signature_chain };
    },
    TdxQuote: (a) => tdxQuote(s, bytes(a, "report_data"), str(a, "hash_algorithm"), str(a, "prefix")),
    RawQuote: (a) => tdxQuote(s, bytes(a, "report_data"), "raw", ""),
    Info: () => appInfo(s, ca.demoCert()),
    Version: () => GUEST_AGENT_VERSION,
  };
}
