/**
 * The single-node KMS in a CVM (Dstack-TEE/dstack: dstack/crates/dstackup/src/install.rs):
 * adopt the recorded KMS VM (or one named dstack-kms), else create it; wait
 * until it runs with boot done and an instance id; then probe the KMS itself.
 */

import { KMS_VM_NAME, kmsAppCompose } from "../../core/compose/kms-compose.ts";
import { DstackError } from "../../core/errors.ts";
import { pollEvery } from "../../core/knobs.ts";
import type { Progress } from "../../core/progress.ts";
import { renderKmsToml } from "../../core/render/kms-toml.ts";
import { connectVmm, type VmmClient } from "../../core/vmm/client.ts";
import { systemRoleOf, systemUserConfig } from "../../core/vmm/system-vm.ts";
import type { VmInfo } from "../../core/vmm/types.ts";
import type { InstallPlan } from "../install/plan.ts";
import { reportedKmsSigner } from "./kms-signer.ts";

export interface KmsOutcome {
  vmId: string;
  created: boolean;
  /** what of an existing KMS CVM was updated ("compose", "port"); empty when nothing */
  updated?: string[];
  /** booted, failed or pending (timeout) */
  boot: "booted" | "failed" | "pending";
  reason?: string;
  /** What was probed beyond the VM's boot state, and the result. */
  probe: string;
  /** The env-key signer the KMS reported (0x + compressed key); undefined when it did not answer. */
  signer?: string;
}

export function bootDone(progress: string | undefined): boolean {
  const p = (progress ?? "").trim();
  return p === "done" || p === "running";
}

export type BootState = { kind: "ready" } | { kind: "failed"; reason: string } | { kind: "pending"; progress: string };

export function bootState(vm: Pick<VmInfo, "status" | "boot_progress" | "boot_error" | "instance_id">): BootState {
  if ((vm.boot_error ?? "").trim()) return { kind: "failed", reason: `boot error: ${vm.boot_error!.trim()}` };
  if (["exited", "stopped", "removing"].includes(vm.status)) return { kind: "failed", reason: `vm status ${vm.status}` };
  // "running" is what a VM that kept running across a VMM restart reports (upstream dstack/vmm/src/app/vm_info.rs)
  if (vm.status === "running" && bootDone(vm.boot_progress) && (vm.instance_id ?? "") !== "") return { kind: "ready" };
  return { kind: "pending", progress: `${vm.status}${vm.boot_progress ? `, ${vm.boot_progress}` : ""}` };
}

async function findVm(c: VmmClient, id: string | null | undefined): Promise<VmInfo | undefined> {
  const all = (await c.status({ brief: true })).vms;
  return (id ? all.find((v) => v.id === id) : undefined) ?? all.find((v) => v.name === KMS_VM_NAME && v.status !== "removing");
}

/**
 * Probe the KMS over HTTPS until it answers or `timeoutMs` passes (its service starts a
 * little after the CVM reports boot done): GetMeta must answer with a CA certificate
 * (TLS unverified: its CA is what we ask for). Throws the last failure.
 */
export async function probeKms(port: number, timeoutMs: number, host = "127.0.0.1"): Promise<string> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      return await probeKmsOnce(host, port);
    } catch (e) {
      const every = pollEvery(500);
      if (performance.now() + every >= deadline) throw e;
      await Bun.sleep(every);
    }
  }
}

async function probeKmsOnce(host: string, port: number): Promise<string> {
  const r = await fetch(`https://${host}:${port}/prpc/GetMeta?json`, {
    method: "POST",
    body: "{}",
    headers: { "content-type": "application/json" },
    tls: { rejectUnauthorized: false },
    signal: AbortSignal.timeout(5000),
  } as RequestInit);
  if (!r.ok) throw new Error(`GetMeta answered HTTP ${r.status}`);
  const meta = (await r.json()) as { ca_cert?: string };
  if (!meta.ca_cert) throw new Error("GetMeta answered without a ca_cert");
  return "KMS GetMeta answered with a CA certificate";
}

export async function deployKms(
  plan: InstallPlan,
  o: { clientUrl: string; token: string; image: string; timeoutMs: number },
  p: Progress,
): Promise<KmsOutcome> {
  const c = await connectVmm({ host: o.clientUrl, token: o.token });
  try {
    let vm = await findVm(c, plan.prev?.kms_vm_id);
    let created = false;
    let updated: string[] = [];
    const built = kmsAppCompose({ kmsImage: plan.flags.kmsImage, kmsToml: renderKmsToml(plan.cfg), platform: plan.cfg.platform });
    const wantPorts = [{ protocol: "tcp", host_address: "127.0.0.1", host_port: plan.cfg.kmsPort, vm_port: 8000 }];
    if (vm) {
      // A changed --kms-image, --kms-port or kms.toml (e.g. a new --auth-port) must reach the CVM:
      // update its compose / port mapping and restart it.
      const have = (await c.getInfo(vm.id)).info?.configuration;
      updated = kmsDrift(have ?? undefined, built.composeFile, plan.cfg.kmsPort);
      // A KMS CVM deployed before the system-VM marker gets it (no restart: the KMS does not read it).
      if (have && systemRoleOf(have.user_config) !== "kms") await c.updateVm({ id: vm.id, user_config: systemUserConfig("kms") });
      if (updated.length) {
        await c.updateVm({
          id: vm.id,
          ...(updated.includes("compose") ? { compose_file: built.composeFile } : {}),
          ...(updated.includes("port") ? { update_ports: true, ports: wantPorts } : {}),
        });
        if (vm.status === "running") await c.stopVm(vm.id);
        await c.startVm(vm.id);
        p.ok(`updated the KMS CVM (vm ${vm.id}: ${updated.join(" and ")} changed) and restarted it`);
      } else if (vm.status === "stopped" || vm.status === "exited") {
        await c.startVm(vm.id);
        p.ok(`started the existing KMS CVM (vm ${vm.id})`);
      } else p.ok(`KMS CVM already deployed (vm ${vm.id})`);
      vm = (await findVm(c, vm.id)) ?? vm; // judge the boot from now, not from before the start
    } else {
      p.step(`deploying the KMS CVM (os ${o.image}, kms ${plan.flags.kmsImage})`);
      let id: string;
      try {
        id = (
          await c.createVm({
            name: KMS_VM_NAME,
            image: o.image,
            compose_file: built.composeFile,
            vcpu: 4,
            memory: 8192,
            disk_size: 20,
            ports: wantPorts,
            user_config: systemUserConfig("kms"), // a system VM: dstack refuses to stop, remove or upgrade it
          })
        ).id;
      } catch (e) {
        throw new DstackError(`createVm for the kms cvm failed: ${e instanceof Error ? e.message : e}`);
      }
      created = true;
      vm = (await findVm(c, id))!;
      p.ok(`created the KMS CVM (vm ${id})`);
    }
    const id = vm.id;
    const deadline = performance.now() + o.timeoutMs;
    let state: BootState = bootState(vm);
    let last = "";
    while (state.kind === "pending" && performance.now() < deadline) {
      if (state.progress !== last) {
        p.step(`KMS CVM boot: ${state.progress}`);
        last = state.progress;
      }
      await Bun.sleep(pollEvery(200));
      const cur = (await c.status({ ids: [id], brief: true })).vms[0];
      if (!cur) return { vmId: id, created, updated, boot: "failed", reason: "the KMS VM disappeared", probe: "none" };
      state = bootState(cur);
    }
    if (state.kind !== "ready") {
      const reason = state.kind === "failed" ? state.reason : `not ready in ${Math.round(o.timeoutMs / 1000)} s (${state.progress})`;
      p.warn(`KMS CVM ${state.kind === "failed" ? "failed" : "not ready"}: ${reason}; check \`dstack logs ${id}\` and the VMM log`);
      return { vmId: id, created, updated, boot: state.kind === "failed" ? "failed" : "pending", reason, probe: "none" };
    }
    let probe: string;
    if (plan.cfg.simulate) {
      probe = "simulated: the VM booted, but no KMS service runs in a simulated CVM, so there is nothing further to probe";
    } else {
      try {
        probe = await probeKms(plan.cfg.kmsPort, Math.min(o.timeoutMs, 120_000));
      } catch (e) {
        probe = `KMS did not answer GetMeta on https://127.0.0.1:${plan.cfg.kmsPort}: ${e instanceof Error ? e.message : e}`;
        p.warn(`${probe}; check \`dstack logs ${id}\``);
        return { vmId: id, created, updated, boot: "booted", probe };
      }
    }
    p.ok(`KMS CVM booted (vm ${id}); ${probe}`);
    try {
      const signer = await reportedKmsSigner(c);
      p.ok(`KMS env-key signer ${signer} recorded (dstack seals secrets only to keys it signs)`);
      return { vmId: id, created, updated, boot: "booted", probe, signer };
    } catch (e) {
      p.warn(
        `the KMS did not report its env-key signer through the VMM (${e instanceof Error ? e.message : e}); \`dstack run -e\` refuses until it is recorded (re-run install) or pinned (--kms-signer)`,
      );
      return { vmId: id, created, updated, boot: "booted", probe };
    }
  } finally {
    c.close();
  }
}

/** What of the KMS CVM differs from what this install wants: its compose (image, kms.toml) and its port. */
export function kmsDrift(
  have: { compose_file?: string; ports?: { host_port: number; vm_port: number }[] } | undefined,
  composeFile: string,
  kmsPort: number,
): string[] {
  if (!have) return [];
  const out: string[] = [];
  if (have.compose_file !== undefined && have.compose_file !== composeFile) out.push("compose");
  const port = have.ports?.find((x) => x.vm_port === 8000)?.host_port;
  if (port !== kmsPort) out.push("port");
  return out;
}
