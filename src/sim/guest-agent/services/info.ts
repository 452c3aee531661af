/**
 * AppInfo, the answer of Info on both sockets (proto field order).
 *
 * Upstream: Dstack-TEE/dstack: dstack/guest-agent/src/rpc_service.rs (get_info).
 */
import { runtimeEventPayload } from "../../../core/tdx/eventlog.ts";
import { mrAggregatedOf } from "../../../core/tdx/measurements.ts";
import type { GuestState } from "../attestation/state.ts";

function appNameOf(appCompose: string): string {
  try {
    const name = (JSON.parse(appCompose) as { name?: unknown }).name;
    return typeof name === "string" ? name : "";
  } catch {
    return "";
  }
}

export function appInfo(s: GuestState, appCert: string) {
  const kp = runtimeEventPayload(s.events, "key-provider") ?? "";
  return {
    app_id: s.vm.appId,
    instance_id: s.vm.instanceId,
    app_cert: appCert,
    tcb_info: s.tcbInfo(),
    app_name: appNameOf(s.vm.appCompose),
    device_id: s.vm.deviceId,
    mr_aggregated: mrAggregatedOf(s.report()),
    os_image_hash: s.vm.osImageHash,
    key_provider_info: Buffer.from(kp, "hex").toString("utf8"),
    compose_hash: s.vm.composeHash,
    vm_config: s.boot.vmConfig,
    cloud_vendor: "",
    cloud_product: "",
  };
}
