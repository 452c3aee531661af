/**
 * What a simulated CVM "measured" while it booted: MRTD and RTMR0..2 stand in
 * for firmware, kernel and command line (derived from the image pin, so VMs of
 * one image agree), and RTMR3 holds dstack's real runtime events in the order
 * the guest's system setup emits them: system-preparing, app-id, compose-hash,
 * init-script-hash (when the compose has one), instance-id, boot-mr-done,
 * os-image-hash (KMS boots), key-provider, storage-fs, system-ready.
 *
 * Upstream: Dstack-TEE/dstack: dstack/dstack-util/src/system_setup.rs.
 */
import { createHash } from "node:crypto";
import { sha256Bytes } from "../../../core/hash.ts";
import { runtimeEvent, type TdxEvent } from "../../../core/tdx/eventlog.ts";
import type { GuestVmInfo } from "../types.ts";

/** TCG EV_EVENT_TAG: the simulated boot-time events. */
const EV_EVENT_TAG = 0x00000006;

export interface MeasuredBoot {
  mrTd: string;
  events: TdxEvent[];
  /** the VM's vm_config JSON (what the VMM hands the guest) */
  vmConfig: string;
  /** the key-provider event's payload, UTF-8 JSON */
  keyProviderInfo: string;
}

const sha384 = (s: string | Uint8Array) => createHash("sha384").update(s).digest("hex");
const bytes = (hex: string) => Buffer.from(hex, "hex");

function bootEvent(imr: number, what: string, osImageHash: string): TdxEvent {
  const payload = Buffer.from(`dstack-vmm-sim simulated ${what} of image ${osImageHash || "(unpinned)"}`, "utf8");
  return {
    imr,
    event_type: EV_EVENT_TAG,
    digest: sha384(payload),
    event: what,
    event_payload: payload.toString("hex"),
  };
}

function composeFlags(appCompose: string): { kms: boolean; initScript?: string } {
  try {
    const m = JSON.parse(appCompose) as { kms_enabled?: unknown; init_script?: unknown };
    return { kms: m.kms_enabled !== false, initScript: typeof m.init_script === "string" ? m.init_script : undefined };
  } catch {
    return { kms: true };
  }
}

/** kmsRootCaSpki: hex of the KMS root CA's SubjectPublicKeyInfo, the key provider's id on a KMS boot (as on a real guest). */
export function measuredBoot(vm: GuestVmInfo, kmsRootCaSpki: string): MeasuredBoot {
  const flags = composeFlags(vm.appCompose);
  const keyProviderInfo = JSON.stringify(flags.kms ? { name: "kms", id: kmsRootCaSpki } : { name: "none", id: "" });
  const runtime: [string, Uint8Array][] = [
    ["system-preparing", new Uint8Array()],
    ["app-id", bytes(vm.appId)],
    ["compose-hash", bytes(vm.composeHash)],
    ...(flags.initScript !== undefined ? [["init-script-hash", sha256Bytes(flags.initScript)] as [string, Uint8Array]] : []),
    ["instance-id", bytes(vm.instanceId)],
    ["boot-mr-done", new Uint8Array()],
    ...(flags.kms ? [["os-image-hash", bytes(vm.osImageHash)] as [string, Uint8Array]] : []),
    ["key-provider", Buffer.from(keyProviderInfo, "utf8")],
    ["storage-fs", Buffer.from("zfs", "utf8")], // what a real 0.5 guest reports
    ["system-ready", new Uint8Array()],
  ];
  return {
    mrTd: sha384(`dstack-vmm-sim simulated MRTD of image ${vm.osImageHash}`),
    events: [
      bootEvent(0, "td-hob-and-acpi-tables", vm.osImageHash),
      bootEvent(1, "kernel", vm.osImageHash),
      bootEvent(2, "kernel-cmdline-and-initrd", vm.osImageHash),
      ...runtime.map(([name, payload]) => runtimeEvent(name, payload)),
    ],
    vmConfig: JSON.stringify({
      os_image_hash: vm.osImageHash,
      cpu_count: vm.vcpu ?? 0,
      memory_size: (vm.memoryMb ?? 0) * 1024 * 1024,
    }),
    keyProviderInfo,
  };
}
