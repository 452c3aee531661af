/**
 * A simulated CVM boot. It walks the boot_progress steps a real guest reports,
 * and plays the KMS: it POSTs a real BootInfo to the auth webhook and stops the
 * boot with `Boot denied: <reason>` when the webhook says no; it decrypts the
 * encrypted env with the app's simulated env key and lists the variable names
 * (never the values) in the serial log; then the app runs (src/sim/runtime/app-runtime.ts)
 * with the values in compose's environment only.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { BootInfo } from "../auth/decide.ts";
import { composeHashOf } from "../core/compose/app-compose.ts";
import { parseAppCompose } from "../core/compose/app-compose-parse.ts";
import { decryptEnv, deriveEnvKeyPair, guestEnvFilter } from "../core/env/envcrypt.ts";
import { sha256Hex } from "../core/hash.ts";
import type { SimConfig } from "./config.ts";
import type { GuestVmInfo } from "./guest-agent/index.ts";
import type { AppRuntime } from "./runtime/app-runtime.ts";
import type { VmRecord, VmStore } from "./store.ts";

export const SIM_DEVICE_ID = sha256Hex("dstack-vmm-sim simulated device");
export const SIM_MARK = "simulated, no TEE";

export function osImageHashOf(cfg: SimConfig, image: string): string {
  try {
    return readFileSync(join(cfg.imagePath, image, "digest.txt"), "utf8").trim();
  } catch {
    return "";
  }
}

export function bootInfoFor(cfg: SimConfig, vm: VmRecord): BootInfo {
  const osImageHash = osImageHashOf(cfg, vm.config.image);
  const composeHash = composeHashOf(vm.config.compose_file);
  return {
    teeVariant: "dstack-tdx",
    mrAggregated: sha256Hex(`sim-mr-aggregated:${osImageHash}:${composeHash}`),
    osImageHash,
    mrSystem: sha256Hex(`sim-mr-system:${osImageHash}`),
    appId: vm.appId,
    composeHash,
    instanceId: vm.instanceId ?? "",
    deviceId: SIM_DEVICE_ID,
    keyProviderInfo: "",
    tcbStatus: "UpToDate",
    advisoryIds: [],
  };
}

/** What the VM's guest agent reports about it (src/sim/guest-agent). */
export function guestVmInfo(cfg: SimConfig, vm: VmRecord): GuestVmInfo {
  return {
    appId: vm.appId,
    instanceId: vm.instanceId ?? "",
    composeHash: composeHashOf(vm.config.compose_file),
    appCompose: vm.config.compose_file,
    osImageHash: osImageHashOf(cfg, vm.config.image),
    deviceId: SIM_DEVICE_ID,
    vmName: vm.config.name,
    vcpu: vm.config.vcpu,
    memoryMb: vm.config.memory,
  };
}

export function envKeyFor(seed: Uint8Array, appId: string) {
  return deriveEnvKeyPair(seed, appId);
}

/** The env the guest keeps from the encrypted env (allowed_envs), as name → value. Throws when it cannot be decrypted. */
export function guestEnvOf(vm: VmRecord, allowedEnvs: string[], seed: Uint8Array): { env: Record<string, string>; dropped: string[] } {
  if (!vm.config.encrypted_env) return { env: {}, dropped: [] };
  const f = guestEnvFilter(decryptEnv(vm.config.encrypted_env, envKeyFor(seed, vm.appId).privateKey), allowedEnvs);
  return { env: Object.fromEntries(f.env.map((v) => [v.key, v.value])), dropped: f.dropped };
}

export async function bootVm(cfg: SimConfig, store: VmStore, vm: VmRecord, seed: Uint8Array, apps: AppRuntime): Promise<void> {
  const gen = vm.generation;
  const live = () => vm.generation === gen && vm.running && !vm.removing;
  const serial = (l: string) => store.log(vm.id, "serial", l);
  const step = async (p: string) => {
    if (!live()) return false;
    vm.bootProgress = p;
    store.event(vm, "boot.progress", p);
    serial(`[dstack-vmm-sim] boot progress: ${p}`);
    await Bun.sleep(cfg.bootStepMs);
    return live();
  };
  const fail = (reason: string) => {
    if (!live()) return;
    vm.bootError = reason;
    store.event(vm, "boot.error", reason);
    serial(reason);
    store.log(vm.id, "stderr", `guest exited: ${reason}`);
    vm.running = false;
    vm.stoppedAtMs = Date.now();
    store.persist(vm);
  };

  serial(`\n===== boot @ ${new Date().toISOString().slice(0, 19)}Z =====`);
  serial(`[dstack-vmm-sim] ${SIM_MARK}: VM ${vm.id} (${vm.config.name}) on image ${vm.config.image}, cid ${vm.cid}`);
  store.log(vm.id, "stdout", `[dstack-vmm-sim] ${SIM_MARK}: qemu is not run; this VM is simulated`);
  if (!(await step("initializing data disk"))) return;
  const manifest = parseAppCompose(vm.config.compose_file);
  if (!vm.instanceId && manifest.no_instance_id !== true) {
    vm.instanceId = randomBytes(20).toString("hex");
  }
  let env: Record<string, string> = {};
  if (manifest.kms_enabled !== false) {
    if (!(await step("requesting app keys"))) return;
    if (!cfg.authUrl) return fail("Boot failed: this simulated VMM has no KMS auth webhook configured ([simulator] auth_url in vmm.toml)");
    const url = `${cfg.authUrl.replace(/\/?$/, "/")}bootAuth/app`;
    let decision: { isAllowed?: unknown; reason?: unknown };
    try {
      const r = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": "dstack-vmm-sim (simulated KMS)" },
        body: JSON.stringify(bootInfoFor(cfg, vm)),
        signal: AbortSignal.timeout(10_000),
      });
      if (!r.ok) return fail(`Boot failed: auth api ${url} returned ${r.status}: ${(await r.text()).slice(0, 512)}`);
      decision = (await r.json()) as typeof decision;
    } catch (e) {
      return fail(`Boot failed: auth api ${url} unreachable: ${(e as Error).message}`);
    }
    if (decision.isAllowed !== true)
      return fail(`Boot denied: ${typeof decision.reason === "string" ? decision.reason : "no reason given"}`);
    serial("[dstack-vmm-sim] app keys released by the KMS (webhook allowed the boot)");
    if (vm.config.encrypted_env) {
      try {
        const g = guestEnvOf(vm, manifest.allowed_envs ?? [], seed);
        env = g.env;
        if (g.dropped.length) serial(`[dstack-vmm-sim] env variables not in allowed_envs, dropped: ${g.dropped.join(", ")}`);
      } catch (e) {
        return fail(`Boot failed: cannot decrypt the encrypted env: ${(e as Error).message}`);
      }
      serial(`[dstack-vmm-sim] decrypted env variables: ${Object.keys(env).join(", ") || "(none)"}`);
    }
  } else {
    serial("[dstack-vmm-sim] kms_enabled is false: no app keys requested");
    if (vm.config.encrypted_env) serial("[dstack-vmm-sim] encrypted env ignored: without the KMS there is no key to decrypt it");
  }
  if (vm.instanceId) store.persist(vm);
  if (!(await step("starting containers"))) return;
  try {
    await apps.start(vm, manifest, env, live, guestVmInfo(cfg, vm));
  } catch (e) {
    return fail(`Boot failed: ${(e as Error).message}`);
  }
  if (vm.instanceId) store.event(vm, "instance.info", JSON.stringify({ instance_id: vm.instanceId, app_id: vm.appId }));
  if (!live()) return;
  vm.bootProgress = "done";
  store.event(vm, "boot.progress", "done");
  serial("[dstack-vmm-sim] boot progress: done");
  store.persist(vm);
}

/**
 * A VM that kept running while the simulator was down: its app is taken up again (compose
 * keeps containers that still run as they are), without a new boot or a new KMS decision.
 */
export async function adoptVm(
  cfg: SimConfig,
  store: VmStore,
  vm: VmRecord,
  seed: Uint8Array,
  apps: AppRuntime,
  why: string,
): Promise<void> {
  const gen = vm.generation;
  const live = () => vm.generation === gen && vm.running && !vm.removing;
  const manifest = parseAppCompose(vm.config.compose_file);
  let env: Record<string, string> = {};
  try {
    if (manifest.kms_enabled !== false) env = guestEnvOf(vm, manifest.allowed_envs ?? [], seed).env;
  } catch (e) {
    store.log(vm.id, "serial", `[dstack-vmm-sim] re-adoption: cannot decrypt the encrypted env: ${(e as Error).message}`);
  }
  store.log(vm.id, "serial", `[dstack-vmm-sim] ${why}: taking this VM's app up again`);
  try {
    await apps.start(vm, manifest, env, live, guestVmInfo(cfg, vm));
  } catch (e) {
    store.log(vm.id, "serial", `[dstack-vmm-sim] re-adoption failed: ${(e as Error).message}`);
  }
}
