/**
 * The deploy path shared by `dstack run` and `dstack deploy`:
 * manifest → hash/app id → (name free?) → auto ports → encrypted env →
 * register the hash (under the allowlist lock) → CreateVm (roll the
 * registration back if it fails) → wait for the boot.
 */

import { registerAppHash, unregisterAppHash } from "../auth/allowlist-file.ts";
import { type BuiltAppCompose, buildAppCompose } from "../core/compose/app-compose.ts";
import { type EnvVar, encryptEnv } from "../core/env/envcrypt.ts";
import { DstackError, UsageError } from "../core/errors.ts";
import { checkPortPolicy, DEFAULT_PORT_POLICY, type PortPolicy, type PortSpec, portUrl, toPortMapping } from "../core/specs/ports.ts";
import type { VmmClient } from "../core/vmm/client.ts";
import type { GpuConfig, VmInfo } from "../core/vmm/types.ts";
import { resolveAutoPorts } from "../host/free-port.ts";
import { bootDone } from "../host/kms/kms.ts";

export interface DeployRequest {
  name: string;
  dockerCompose: string;
  image: string;
  vcpu: number;
  memoryMiB: number;
  diskGiB: number;
  ports: PortSpec[];
  env: EnvVar[];
  kms: boolean;
  gpus: GpuConfig | null;
  allowlistPath: string;
  /** probe auto ports locally (only when the VMM is on this host) */
  localVmm: boolean;
  /** The VMM's port-mapping policy when known (its vmm.toml is readable); else the VMM checks. */
  portPolicy?: PortPolicy | undefined;
}

export interface DeployResult {
  vmId: string;
  name: string;
  appId: string;
  composeHash: string;
  ports: { protocol: string; host_address: string; host_port: number; vm_port: number; url: string }[];
  registered: "added" | "already" | "skipped";
  encryptedEnv: string[];
}

/** The VMM's error for a host port another VM maps (Dstack-TEE/dstack: dstack/vmm/src/main_service.rs). */
const AUTO_PORT_CLASH = /host port mapping conflicts with VM \S+: \S+ \S*:(\d+)/;
const AUTO_PORT_ATTEMPTS = 5;

export function buildManifest(r: Pick<DeployRequest, "name" | "dockerCompose" | "kms" | "env">): BuiltAppCompose {
  return buildAppCompose({ name: r.name, dockerCompose: r.dockerCompose, kms: r.kms, allowedEnvs: r.env.map((e) => e.key) });
}

export async function deploy(c: VmmClient, r: DeployRequest, built: BuiltAppCompose, progress: (m: string) => void): Promise<DeployResult> {
  const st = await c.status({ brief: true });
  const clash = st.vms.find((v) => v.name === r.name && v.status !== "removing");
  if (clash) {
    throw new DstackError(`a VM named "${r.name}" already exists (${clash.id}, ${clash.status})`, {
      hint: `update it with \`dstack upgrade ${r.name} …\`, remove it with \`dstack rm -f ${r.name}\`, or pick another --name`,
    });
  }
  if (r.portPolicy) {
    const existing = st.vms.flatMap((v) => (v.configuration?.ports ?? []).map((m) => ({ vm: v.name, mapping: m })));
    checkPortPolicy(r.ports, r.portPolicy, existing);
  }
  const ranges = (r.portPolicy ?? DEFAULT_PORT_POLICY).ranges;
  const takenBy = (vms: VmInfo[]) =>
    vms.flatMap((v) =>
      (v.configuration?.ports ?? []).map((p) => ({ protocol: p.protocol, host_address: p.host_address, host_port: p.host_port })),
    );
  const pick = async (taken: ReturnType<typeof takenBy>) =>
    (await resolveAutoPorts(r.ports, { ranges, taken, probe: r.localVmm })).map(toPortMapping);
  let ports = await pick(takenBy(st.vms));
  let encrypted = "";
  if (r.env.length) {
    if (!r.kms) throw new UsageError("encrypted env (-e KEY=VALUE / --env-file) needs the KMS: drop --no-kms or the env");
    const pk = await c.getAppEnvEncryptPubKey(built.appId);
    encrypted = encryptEnv(r.env, pk.public_key);
  }
  let registered: DeployResult["registered"] = "skipped";
  if (r.kms) {
    registered = (await registerAppHash(r.allowlistPath, built.appId, built.composeHash)).added ? "added" : "already";
    progress(`registered compose hash ${built.composeHash} for app ${built.appId}${registered === "already" ? " (already allowed)" : ""}`);
  }
  const create = () =>
    c.createVm({
      name: r.name,
      image: r.image,
      compose_file: built.composeFile,
      vcpu: r.vcpu,
      memory: r.memoryMiB,
      disk_size: r.diskGiB,
      ports,
      encrypted_env: encrypted,
      app_id: built.appId,
      gpus: r.gpus,
    });
  let vmId: string;
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        vmId = (await create()).id;
        break;
      } catch (e) {
        // Another deploy took an auto-picked port between our Status and CreateVm: pick again.
        const clash = AUTO_PORT_CLASH.exec((e as Error).message);
        const autoPorts = new Set(ports.filter((_, i) => r.ports[i]?.hostPort === "auto").map((p) => p.host_port));
        if (!clash || !autoPorts.has(Number(clash[1])) || attempt >= AUTO_PORT_ATTEMPTS) throw e;
        const picked = ports.map((p) => ({ protocol: p.protocol, host_address: p.host_address, host_port: p.host_port }));
        ports = await pick([...takenBy((await c.status({ brief: true })).vms), ...picked]);
        progress(`a picked host port was taken meanwhile; trying ${ports.map((p) => p.host_port).join(", ")}`);
      }
    }
  } catch (e) {
    if (registered === "added") {
      await unregisterAppHash(r.allowlistPath, built.appId, built.composeHash);
      progress("CreateVm failed: removed the registration this call added");
    }
    throw e;
  }
  return {
    vmId,
    name: r.name,
    appId: built.appId,
    composeHash: built.composeHash,
    ports: ports.map((p) => ({ ...p, url: portUrl(p) })),
    registered,
    encryptedEnv: r.env.map((e) => e.key),
  };
}

export type BootOutcome = { ok: true; vm: VmInfo } | { ok: false; vm: VmInfo | undefined; reason: string; timedOut?: boolean };

/** Wait until running + boot done + instance id, or a failure; the reason comes from the VM's serial log. */
export async function waitBoot(c: VmmClient, id: string, timeoutMs: number, progress: (m: string) => void): Promise<BootOutcome> {
  const deadline = performance.now() + timeoutMs;
  let last = "";
  let vm: VmInfo | undefined;
  while (performance.now() < deadline) {
    vm = (await c.status({ ids: [id], brief: true })).vms[0];
    if (!vm) return { ok: false, vm, reason: "the VM disappeared" };
    const p = `${vm.status}${vm.boot_progress ? ` (${vm.boot_progress})` : ""}`;
    if (p !== last) {
      progress(p);
      last = p;
    }
    if (vm.boot_error.trim() || ["exited", "stopped", "removing"].includes(vm.status)) {
      return { ok: false, vm, reason: await failureReason(c, id, vm) };
    }
    if (vm.status === "running" && bootDone(vm.boot_progress) && vm.instance_id) return { ok: true, vm };
    await Bun.sleep(50);
  }
  return { ok: false, vm, reason: `last seen: ${last || "no status yet"}`, timedOut: true };
}

async function failureReason(c: VmmClient, id: string, vm: VmInfo): Promise<string> {
  let log = "";
  try {
    for await (const chunk of c.logs(id, { lines: 50 })) log += chunk;
  } catch {
    /* no log */
  }
  const line = log
    .split("\n")
    .reverse()
    .find((l) => /Boot (denied|failed)|error/i.test(l));
  return (line ?? vm.boot_error ?? `status ${vm.status}`).trim() || `status ${vm.status}`;
}
