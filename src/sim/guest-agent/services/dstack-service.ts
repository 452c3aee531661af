/**
 * The DstackGuest service (dstack.sock): the methods of upstream's agent_rpc.proto, and EmitEvent (dstack OS 0.5.x, still called by the SDK).
 *
 * Upstream: Dstack-TEE/dstack: dstack/guest-agent/rpc/proto/agent_rpc.proto, dstack/guest-agent/src/rpc_service.rs.
 */
import { hexOf } from "../../../core/keys/hex.ts";
import { deriveAppPathKey, keyAlgorithmOf } from "../../../core/keys/key-chain.ts";
import { encodeTdxAttestationV0 } from "../../../core/tdx/attestation.ts";
import type { GuestState } from "../attestation/state.ts";
import { type Args, bool, bytes, optU64, RpcError, type Service, str, strs } from "../rpc.ts";
import { appInfo } from "./info.ts";
import { sign, verify } from "./sign.ts";
import { type GuestCa, randomP256Key } from "./tls.ts";
import { GUEST_AGENT_VERSION } from "./version.ts";

export function getKey(s: GuestState, a: Args) {
  const algorithm = keyAlgorithmOf(str(a, "algorithm"));
  if (!algorithm) throw new RpcError("Unsupported algorithm");
  const k = deriveAppPathKey(s.appKey, str(a, "path"), str(a, "purpose"), algorithm);
  return { key: hexOf(k.key), signature_chain: k.signatureChain.map(hexOf) };
}

export function quoteOf(s: GuestState, reportData: Uint8Array) {
  try {
    return s.quote(reportData);
  } catch (e) {
    throw new RpcError((e as Error).message);
  }
}

function attest(s: GuestState, reportData: Uint8Array) {
  const q = quoteOf(s, reportData);
  const runtimeEvents = s.events.filter((e) => e.imr === 3).map((e) => ({ event: e.event, payload: Buffer.from(e.event_payload, "hex") }));
  const attestation = encodeTdxAttestationV0({
    quote: q.quote,
    eventLog: s.events,
    runtimeEvents,
    reportData: q.reportData,
    config: s.boot.vmConfig,
  });
  return { attestation: hexOf(attestation) };
}

export function dstackService(s: GuestState, ca: GuestCa): Service {
  return {
    GetTlsKey: (a) =>
      ca.issue({
        key: randomP256Key(),
        subject: str(a, "subject"),
        altNames: strs(a, "alt_names"),
        raTls: bool(a, "usage_ra_tls"),
        serverAuth: bool(a, "usage_server_auth"),
        clientAuth: bool(a, "usage_client_auth"),
        notBefore: optU64(a, "not_before"),
        notAfter: optU64(a, "not_after"),
      }),
    GetKey: (a) => getKey(s, a),
    GetQuote: (a) => {
      const q = quoteOf(s, bytes(a, "report_data"));
      return { quote: hexOf(q.quote), event_log: s.eventLogJson(), report_data: hexOf(q.reportData), vm_config: s.boot.vmConfig };
    },
    Attest: (a) => attest(s, bytes(a, "report_data")),
    EmitEvent: (a) => {
      s.emit(str(a, "event"), bytes(a, "payload"));
      return {};
    },
    Info: () => appInfo(s, ca.demoCert()),
    GpuInfo: () => ({ attestation: "" }),
    Sign: (a) => sign(s, str(a, "algorithm"), bytes(a, "data")),
    Verify: (a) => verify(str(a, "algorithm"), bytes(a, "data"), bytes(a, "signature"), bytes(a, "public_key")),
    Version: () => GUEST_AGENT_VERSION,
  };
}
