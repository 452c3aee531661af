/**
 * `dstack upgrade`: give a VM's app a new docker-compose (UpgradeApp). The new compose hash is
 * registered in the allowlist first (only for an app still there: a revoked one needs
 * `register`) and withdrawn again if the VMM refuses, unless another VM relies on it; with
 * `restart`, the VM is stopped as `dstack stop` does, started, and its boot waited for, and once
 * the new version has booted the previous hash is withdrawn (unless `keepPrevious`, or another VM
 * of the app boots it), so the host cannot boot the old version and have it get keys. A failed
 * upgrade keeps the previous hash (docs/allowlist.md).
 */
import { buildAppCompose, composeHashOf } from "../../core/compose/app-compose.ts";
import { parseAppCompose } from "../../core/compose/app-compose-parse.ts";
import { DEFAULTS, parseDuration } from "../../core/compose/deploy-plan.ts";
import { withImage } from "../../core/compose/replace-image.ts";
import { refuseSystemVm } from "../../core/vmm/system-vm.ts";
import type { VmInfo } from "../../core/vmm/types.ts";
import { selectVm } from "../../core/vmm/vm-select.ts";
import { fileAllowlist } from "../allowlist/allowlist-access.ts";
import type { EndpointFlags } from "../connect/endpoint.ts";
import { type ClientRun, openClient } from "../connect/session.ts";
import { STOP_TIMEOUT, stopVm } from "../graceful-stop.ts";
import { waitBooted } from "./boot-wait.ts";

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
  /** Keep the previous hash allowed after the new version booted (a staged rollout). */
  keepPrevious: boolean;
  /** Allow the app again if it is not in the allowlist (revoked). */
  register: boolean;
  /** No progress lines while waiting for the boot. */
  quiet: boolean;
}

export type UpgradeResult =
  | { changed: false; vm: VmInfo; composeHash: string }
  | {
      changed: true;
      vm: VmInfo;
      oldComposeHash: string;
      newComposeHash: string;
      status: string;
      bootFailed: boolean;
      /** What became of the previous hash, in words. */
      previousHash: string;
    };

export async function upgradeVm(flags: EndpointFlags, run: ClientRun, req: UpgradeRequest): Promise<UpgradeResult> {
  const { c, ep } = await openClient(flags, run);
  try {
    const vm = selectVm((await c.status({ brief: true })).vms, req.vm);
    const configuration = (await c.getInfo(vm.id)).info!.configuration!;
    refuseSystemVm({ ...vm, configuration }, "upgrade");
    const oldText = configuration.compose_file;
    const old = parseAppCompose(oldText);
    const built = buildAppCompose({
      name: old.name,
      dockerCompose: req.dockerCompose ?? withImage(old.docker_compose_file ?? "", req.image!, vm.name),
      kms: old.kms_enabled !== false,
      allowedEnvs: old.allowed_envs ?? [],
    });
    const oldHash = composeHashOf(oldText);
    if (built.composeHash === oldHash) return { changed: false, vm, composeHash: oldHash };
    const allowlist = req.allowlist ? fileAllowlist(req.allowlist) : ep.allowlist;
    const kms = old.kms_enabled !== false;
    // A revoked app stays revoked unless `register` says otherwise (checked under the allowlist lock).
    const added = kms && (await allowlist.register(vm.app_id, built.composeHash, { requireApp: !req.register })).added;
    try {
      await c.upgradeApp({ id: vm.id, compose_file: built.composeFile });
    } catch (e) {
      // Withdraw the registration this call added, unless another VM relies on it.
      if (added) await allowlist.withdrawUnused(c, { appId: vm.app_id, hashes: [built.composeHash] });
      throw e;
    }
    let status = "upgraded; restart to run it";
    let bootFailed = false;
    let previousHash = kms ? "kept until the new version has booted (then `dstack allowlist prune` withdraws it)" : "no KMS";
    if (req.restart) {
      // As `dstack restart`: a guest shutdown, then start and wait for the boot.
      await stopVm(c, vm, { force: false, timeoutMs: parseDuration(STOP_TIMEOUT), timeoutText: STOP_TIMEOUT });
      await c.startVm(vm.id);
      try {
        await waitBooted(c, vm, parseDuration(DEFAULTS.timeout), run.io, req.quiet);
        status = "upgraded and restarted";
        if (kms && req.keepPrevious) previousHash = "kept (--keep-previous)";
        else if (kms) {
          const gone = await allowlist.withdrawUnused(c, { appId: vm.app_id, hashes: [oldHash] });
          previousHash = gone.length ? "withdrawn" : "kept (another VM of the app boots it)";
        }
      } catch (e) {
        bootFailed = true;
        status = `restarted, ${(e as Error).message}`;
        if (kms) previousHash = "kept (the new version did not boot)";
      }
    }
    return { changed: true, vm, oldComposeHash: oldHash, newComposeHash: built.composeHash, status, bootFailed, previousHash };
  } finally {
    c.close();
  }
}
