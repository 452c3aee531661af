/**
 * The deploy path shared by `dstack run` and `dstack deploy`:
 * manifest → hash/app id → (name free? ports free? one full Status) → auto
 * ports → encrypted env → CreateVm, stopped, and claim the name
 * (name-claim.ts: at most one VM per name) → register the hash (under the
 * allowlist lock) → StartVm (if it fails: remove the VM and withdraw the
 * hash unless another VM relies on it) → wait for the boot.
 */

import { type BuiltAppCompose, buildAppCompose } from "../../core/compose/app-compose.ts";
import type { EnvVar } from "../../core/env/envcrypt.ts";
import { UsageError } from "../../core/errors.ts";
import { checkPortPolicy, DEFAULT_PORT_POLICY, type PortPolicy, type PortSpec, portUrl, toPortMapping } from "../../core/specs/ports.ts";
import type { VmmClient } from "../../core/vmm/client.ts";
import type { GpuConfig, VmInfo } from "../../core/vmm/types.ts";
import { resolveAutoPorts } from "../../host/free-port.ts";
import { bootDone } from "../../host/kms/kms.ts";
import type { AllowlistAccess } from "../allowlist/allowlist-access.ts";
import { claimName, nameTaken } from "./name-claim.ts";
import { sealEnv } from "./seal-env.ts";

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
  allowlist: AllowlistAccess;
  /** probe auto ports locally (only when the VMM is on this host) */
  localVmm: boolean;
  /** The VMM's port-mapping policy when known (its vmm.toml is readable); else the VMM checks. */
  portPolicy?: PortPolicy | undefined;
  /** the KMS signer env keys must be signed by (recorded at install, or pinned) */
  kmsSigner?: string | undefined;
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
  // Full records: the port checks need every VM's mappings (brief Status has no configuration).
  const st = await c.status({ brief: false });
  const clash = st.vms.find((v) => v.name === r.name && v.status !== "removing");
  if (clash) throw nameTaken(r.name, clash);
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
    encrypted = await sealEnv(c, built.appId, r.env, r.kmsSigner);
  }
  // Created stopped: it runs only once the name is ours and its hash registered.
  const create = async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        return (
          await c.createVm({
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
            stopped: true,
          })
        ).id;
      } catch (e) {
        // Another deploy took an auto-picked port between our Status and CreateVm: pick again.
        const clash = AUTO_PORT_CLASH.exec((e as Error).message);
        const autoPorts = new Set(ports.filter((_, i) => r.ports[i]?.hostPort === "auto").map((p) => p.host_port));
        if (!clash || !autoPorts.has(Number(clash[1])) || attempt >= AUTO_PORT_ATTEMPTS) throw e;
        const picked = ports.map((p) => ({ protocol: p.protocol, host_address: p.host_address, host_port: p.host_port }));
        ports = await pick([...takenBy((await c.status({ brief: false })).vms), ...picked]);
        progress(`a picked host port was taken meanwhile; trying ${ports.map((p) => p.host_port).join(", ")}`);
      }
    }
  };
  const vmId = await claimName(c, r.name, create, { progress });
  let registered: DeployResult["registered"] = "skipped";
  try {
    if (r.kms) {
      // Registered only now that the VM exists: a withdrawal that asks the VMM sees it (registration.ts).
      registered = (await r.allowlist.register(built.appId, built.composeHash)).added ? "added" : "already";
      progress(
        `registered compose hash ${built.composeHash} for app ${built.appId}${registered === "already" ? " (already allowed)" : ""}`,
      );
    }
    await c.startVm(vmId);
  } catch (e) {
    await c.removeVm(vmId).catch(() => {});
    if (registered === "added") {
      const gone = await r.allowlist.withdrawUnused(c, { appId: built.appId, hashes: [built.composeHash], except: [vmId] });
      if (gone.length) progress("the VM could not start: removed it and the registration this call added");
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
