/**
 * Withdrawing registrations that no VM relies on: the roll-back of a failed
 * deploy, `rm` of an app's last VM, `upgrade` leaving the previous hash,
 * `allowlist prune`. The VMM is asked which VMs exist (any state but
 * `removing`, stopped ones included: they boot again) while the allowlist lock
 * is held, and a deploy registers only once its VM exists (name-claim.ts), so
 * a deploy in flight either shows its VM to that question or registers after
 * the withdrawal and puts its hash back: a registration another VM or another
 * call relies on is never taken away.
 */
import type { Allowlist } from "../../auth/allowlist.ts";
import { readAllowlistFile, updateAllowlist } from "../../auth/allowlist-file.ts";
import { unusedRegistrations, type VmUse, type Withdrawal, withoutWithdrawals } from "../../auth/unused.ts";
import { composeHashOf } from "../../core/compose/app-compose.ts";
import { NotFoundError } from "../../core/errors.ts";
import type { VmmClient } from "../../core/vmm/client.ts";
import type { VmInfo } from "../../core/vmm/types.ts";

/** What each VM would boot, leaving out `except` (VM ids on their way out) and VMs being removed. */
export function vmUses(vms: VmInfo[], except: readonly string[] = []): VmUse[] {
  return vms
    .filter((v) => v.status !== "removing" && !except.includes(v.id) && v.app_id)
    .map((v) => ({ appId: v.app_id, composeHash: v.configuration ? composeHashOf(v.configuration.compose_file) : undefined }));
}

export interface WithdrawScope {
  /** Only this app (else every app: prune). */
  appId?: string;
  /** Only these hashes of it. */
  hashes?: string[];
  /** VM ids not to count (being removed by the caller). */
  except?: readonly string[];
  /** Say what would go, change nothing. */
  dryRun?: boolean;
}

/**
 * Withdraw the registrations in `scope` that no VM relies on, under the lock;
 * returns what was (or, with dryRun, would be) withdrawn. A missing allowlist
 * has nothing to withdraw.
 */
export async function withdrawUnused(c: VmmClient, path: string, scope: WithdrawScope = {}): Promise<Withdrawal[]> {
  const s = scope.appId === undefined ? undefined : { appId: scope.appId, ...(scope.hashes ? { hashes: scope.hashes } : {}) };
  const unused = async (list: Allowlist) => unusedRegistrations(list, vmUses((await c.status({ brief: false })).vms, scope.except), s);
  let gone: Withdrawal[] = [];
  try {
    if (scope.dryRun) return await unused(readAllowlistFile(path));
    await updateAllowlist(
      path,
      async (list) => {
        gone = await unused(list);
        return withoutWithdrawals(list, gone);
      },
      { mustExist: true },
    );
  } catch (e) {
    if (e instanceof NotFoundError) return [];
    throw e;
  }
  return gone;
}

/** How a withdrawal reads in a result line. */
export function describeWithdrawals(ws: Withdrawal[]): string {
  return ws
    .map((w) => (w.wholeApp ? `app ${w.appId} (${w.hashes.length} hash(es))` : `${w.hashes.length} hash(es) of app ${w.appId}`))
    .join(", ");
}

/**
 * After `rm` of `vm`: withdraw its app's registration if no other VM of the
 * app is left. The note for its result line; a withdrawal that fails (the
 * allowlist unreadable, say) is reported there, since the VM is gone anyway.
 */
export async function withdrawAfterRemove(
  c: VmmClient,
  allowlist: { withdrawUnused(c: VmmClient, scope: WithdrawScope): Promise<Withdrawal[]> },
  vm: Pick<VmInfo, "id" | "app_id">,
): Promise<string> {
  if (!vm.app_id) return "";
  try {
    const gone = await allowlist.withdrawUnused(c, { appId: vm.app_id, except: [vm.id] });
    return gone.length ? `; its app had no other VM: withdrew ${describeWithdrawals(gone)} from the allowlist` : "";
  } catch (e) {
    return `; its registration was not withdrawn: ${(e as Error).message}`;
  }
}
