/**
 * `dstackup destroy`: stop the KMS CVM, the daemons and our key provider.
 * Config, state and the KMS CVM (its disk holds the KMS keys) are kept unless
 * --purge, which removes everything the install created.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, rmdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { KMS_VM_NAME } from "../../core/compose/kms-compose.ts";
import type { Layout } from "../../core/layout.ts";
import type { Progress } from "../../core/progress.ts";
import { connectVmm } from "../../core/vmm/client.ts";
import { stopKeyProvider } from "../kms/key-provider.ts";
import { Services } from "../services/services.ts";
import { systemdRunning } from "../services/systemd.ts";
import type { InstallState } from "./state.ts";

export interface DestroyStep {
  what: string;
  done: boolean;
  detail?: string;
}

export function purgeTargets(layout: Layout): string[] {
  const dirs = [layout.configDir, layout.stateDir, layout.cacheDir, layout.runDir];
  if (layout.prefix) dirs.push(layout.libexecDir, layout.shareDir);
  return dirs;
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Remove `dir` and its parents while empty, up to but not including `stopAt`. */
function pruneEmpty(dir: string, stopAt: string): string[] {
  const removed: string[] = [];
  let d = dir;
  while (d !== stopAt && d.startsWith(`${stopAt}/`)) {
    try {
      if (!existsSync(d) || readdirSync(d).length > 0) break;
      rmdirSync(d);
      removed.push(d);
    } catch {
      break;
    }
    d = dirname(d);
  }
  return removed;
}

export async function destroyInstall(
  layout: Layout,
  st: InstallState | undefined,
  opts: { purge: boolean; dryRun: boolean; damagedState?: boolean },
  p: Progress,
): Promise<DestroyStep[]> {
  const steps: DestroyStep[] = [];
  const step = (what: string, done: boolean, detail?: string) => {
    steps.push(detail === undefined ? { what, done } : { what, done, detail });
    if (opts.dryRun) p.step(`would ${what}`);
    else if (done) p.ok(what + (detail ? ` (${detail})` : ""));
    else p.warn(`${what}: ${detail ?? "nothing to do"}`);
  };
  if (st) {
    const mgr = new Services(st.service_manager ?? "systemd", st.run_dir ?? layout.runDir);
    // The KMS CVM, while the VMM still runs.
    let token = "";
    try {
      token = readFileSync(st.client_token_path ?? layout.tokenPath, "utf8").trim();
    } catch {
      /* no token: the VMM call below fails and says so */
    }
    if (st.kms_url || st.kms_vm_id) {
      try {
        const c = await connectVmm({ host: st.client_url, token, timeoutMs: 5000 });
        try {
          const vms = (await c.status({ brief: true })).vms;
          const vm = vms.find((v) => v.id === st.kms_vm_id) ?? vms.find((v) => v.name === KMS_VM_NAME);
          if (!vm) step("stop the KMS CVM", false, "no KMS CVM found");
          else if (opts.purge) {
            if (!opts.dryRun) await c.removeVm(vm.id);
            step(`remove the KMS CVM (vm ${vm.id}) and its keys`, true);
            // The apps' CVMs go too (a simulated host removes their containers, networks and volumes).
            const apps = vms.filter((v) => v.id !== vm.id);
            if (!opts.dryRun) {
              for (const a of apps) await c.removeVm(a.id);
              const deadline = Date.now() + 60_000;
              while ((await c.status({ brief: true })).vms.length && Date.now() < deadline) await Bun.sleep(100);
            }
            if (apps.length) step(`remove ${apps.length} app CVM(s): ${apps.map((a) => a.name || a.id).join(", ")}`, true);
          } else {
            if (!opts.dryRun && vm.status !== "stopped" && vm.status !== "exited") await c.stopVm(vm.id);
            step(`stop the KMS CVM (vm ${vm.id}); its disk and KMS keys are kept`, true);
          }
        } finally {
          c.close();
        }
      } catch (e) {
        step("stop the KMS CVM", false, `VMM not reachable: ${(e as Error).message}`);
      }
    }
    for (const unit of [st.vmm_unit ?? layout.vmmUnit, st.auth_unit ?? layout.authUnit]) {
      if (opts.dryRun) {
        step(`stop and remove ${unit} (${mgr.kind})`, true);
        continue;
      }
      const had = await mgr.remove(unit);
      step(`stopped and removed ${unit} (${mgr.kind})`, had, had ? undefined : "was not running");
    }
    if (st.kp_own_project) {
      if (!opts.dryRun) {
        const ok = await stopKeyProvider(st.kp_own_project);
        step(`stopped the key provider (docker compose project ${st.kp_own_project})`, ok, ok ? undefined : "docker compose down failed");
      } else step(`stop the key provider (project ${st.kp_own_project})`, true);
    }
  } else if (opts.damagedState) {
    // No record of how it was installed: find the daemons by the layout's names, as pidfiles and as units.
    const kinds = systemdRunning() ? (["detached", "systemd"] as const) : (["detached"] as const);
    for (const kind of kinds) {
      const mgr = new Services(kind, layout.runDir);
      for (const unit of [layout.vmmUnit, layout.authUnit]) {
        const had = opts.dryRun ? (await mgr.state(unit)).active : await mgr.remove(unit);
        if (had) step(`${opts.dryRun ? "stop and remove" : "stopped and removed"} ${unit} (${kind})`, true);
      }
    }
  } else {
    p.warn(`no install state at ${layout.stateFile} (nothing running to stop)`);
  }
  if (opts.purge && opts.damagedState) {
    step("purge", false, "not done: with the state file damaged, what the install created (and what was there before) is unknown");
  } else if (opts.purge) {
    for (const link of st?.links ?? []) {
      if (!existsSync(link) && !isLink(link)) continue;
      if (!opts.dryRun) {
        rmSync(link, { force: true });
      }
      step(`remove ${link}`, true);
    }
    for (const c of st?.created_paths ?? []) {
      if (!existsSync(c)) continue;
      if (!opts.dryRun) rmSync(c, { recursive: true, force: true });
      step(`remove ${c}`, true);
    }
    for (const d of purgeTargets(layout)) {
      if (!existsSync(d)) continue;
      const keep = st?.preexisting_entries?.[d];
      if (keep) {
        // The directory was there before the install: remove only what came after.
        const ours = readdirSync(d).filter((e) => !keep.includes(e));
        if (!opts.dryRun) for (const e of ours) rmSync(join(d, e), { recursive: true, force: true });
        step(
          `purge ${d}: ${ours.length ? ours.join(", ") : "nothing of ours"}${keep.length ? ` (kept what was there before the install: ${keep.join(", ")})` : ""}`,
          true,
        );
        continue;
      }
      if (!opts.dryRun) rmSync(d, { recursive: true, force: true });
      step(`purge ${d}`, true);
      if (!opts.dryRun && layout.prefix) for (const r of pruneEmpty(dirname(d), layout.prefix)) p.ok(`removed empty dir ${r}`);
    }
    // Directories install created (deepest first), when now empty.
    if (!opts.dryRun) {
      for (const d of [...(st?.created_dirs ?? [])].sort((a, b) => b.length - a.length)) {
        try {
          if (existsSync(d) && readdirSync(d).length === 0) {
            rmdirSync(d);
            p.ok(`removed empty dir ${d}`);
          }
        } catch {
          /* not empty or gone */
        }
      }
    }
  } else if (!opts.dryRun && (st || opts.damagedState)) {
    p.ok(`configs kept at ${layout.configDir}; state and the KMS CVM kept under ${layout.stateDir} (dstackup destroy --purge wipes them)`);
  }
  return steps;
}
