/**
 * `dstack upgrade`: give a VM's app a new docker-compose (UpgradeApp). The new compose hash is
 * registered in the allowlist first and withdrawn again if the VMM refuses; with `restart`, the
 * VM is stopped as `dstack stop` does, started, and its boot waited for.
 */
import { registerAppHash, unregisterAppHash } from "../auth/allowlist-file.ts";
import { buildAppCompose, composeHashOf } from "../core/compose/app-compose.ts";
import { parseAppCompose } from "../core/compose/app-compose-parse.ts";
import { DEFAULTS, parseDuration } from "../core/compose/deploy-plan.ts";
import { withImage } from "../core/compose/replace-image.ts";
import type { VmInfo } from "../core/vmm/types.ts";
import { selectVm } from "../core/vmm/vm-select.ts";
import { waitBooted } from "./boot-wait.ts";
import type { EndpointFlags } from "./endpoint.ts";
import { STOP_TIMEOUT, stopVm } from "./graceful-stop.ts";
import { type ClientRun, openClient } from "./session.ts";

export interface UpgradeRequest {
  /** VM name or id prefix. */
  vm: string;
  /** The new docker-compose, or… */
  dockerCompose?: string | undefined;
  /** …the new image of the app's single service. */
  image?: string | undefined;
  /** Allowlist to register the new hash in (default: the endpoint's). */
  allowlist?: string | undefined;
  restart: boolean;
  /** No progress lines while waiting for the boot. */
  quiet: boolean;
}

export type UpgradeResult =
  | { changed: false; vm: VmInfo; composeHash: string }
  | { changed: true; vm: VmInfo; oldComposeHash: string; newComposeHash: string; status: string; bootFailed: boolean };

export async function upgradeVm(flags: EndpointFlags, run: ClientRun, req: UpgradeRequest): Promise<UpgradeResult> {
  const { c, ep } = await openClient(flags, run);
  try {
    const vm = selectVm((await c.status({ brief: true })).vms, req.vm);
    const oldText = (await c.getInfo(vm.id)).info!.configuration!.compose_file;
    const old = parseAppCompose(oldText);
    const built = buildAppCompose({
      name: old.name,
      dockerCompose: req.dockerCompose ?? withImage(old.docker_compose_file ?? "", req.image!, vm.name),
      kms: old.kms_enabled !== false,
      allowedEnvs: old.allowed_envs ?? [],
    });
    const oldHash = composeHashOf(oldText);
    if (built.composeHash === oldHash) return { changed: false, vm, composeHash: oldHash };
    const allowlistPath = req.allowlist ?? ep.allowlistPath;
    const added = old.kms_enabled !== false && (await registerAppHash(allowlistPath, vm.app_id, built.composeHash)).added;
    try {
      await c.upgradeApp({ id: vm.id, compose_file: built.composeFile });
    } catch (e) {
      // Withdraw the registration this call added (not one that was there before).
      if (added) await unregisterAppHash(allowlistPath, vm.app_id, built.composeHash);
      throw e;
    }
    let status = "upgraded; restart to run it";
    let bootFailed = false;
    if (req.restart) {
      // As `dstack restart`: a guest shutdown, then start and wait for the boot.
      await stopVm(c, vm, { force: false, timeoutMs: parseDuration(STOP_TIMEOUT), timeoutText: STOP_TIMEOUT });
      await c.startVm(vm.id);
      try {
        await waitBooted(c, vm, parseDuration(DEFAULTS.timeout), run.io, req.quiet);
        status = "upgraded and restarted";
      } catch (e) {
        bootFailed = true;
        status = `restarted, ${(e as Error).message}`;
      }
    }
    return { changed: true, vm, oldComposeHash: oldHash, newComposeHash: built.composeHash, status, bootFailed };
  } finally {
    c.close();
  }
}
