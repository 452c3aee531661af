/** The DstackGuest service (dstack.sock): the methods of upstream's agent_rpc.proto plus EmitEvent. */
import { hexOf } from "../../core/keys/hex.ts";
import { deriveAppPathKey, keyAlgorithmOf } from "../../core/keys/key-chain.ts";
import { appInfo } from "./info.ts";
import { type Args, bytes, RpcError, type Service, str } from "./rpc.ts";
import type { GuestState } from "./state.ts";
import { GUEST_AGENT_VERSION } from "./version.ts";

export function getKey(s: GuestState, a: Args) {
  const algorithm = keyAlgorithmOf(str(a, "algorithm"));
  if (!algorithm) throw new RpcError("Unsupported algorithm");
  const k = deriveAppPathKey(s.appKey, str(a, "path"), str(a, "purpose"), algorithm);
  return { key: hexOf(k.key), signature_chain: k.signatureChain.map(hexOf) };
}

export function quoteResponse(s: GuestState, reportData: Uint8Array) {
  let q: ReturnType<GuestState["quote"]>;
  try {
    q = s.quote(reportData);
  } catch (e) {
    throw new RpcError((e as Error).message);
  }
  return { quote: hexOf(q.quote), event_log: s.eventLogJson(), report_data: hexOf(q.reportData), vm_config: s.boot.vmConfig };
}

export function dstackService(s: GuestState): Service {
  return {
    GetKey: (a) => getKey(s, a),
    GetQuote: (a) => quoteResponse(s, bytes(a, "report_data")),
    EmitEvent: (a) => {
      const event = str(a, "event");
      if (!event) throw new RpcError("event name must not be empty");
      s.emit(event, bytes(a, "payload"));
      return {};
    },
    Info: () => appInfo(s, ""),
    GpuInfo: () => ({ attestation: "" }),
    Version: () => GUEST_AGENT_VERSION,
  };
}
