/**
 * Where a command's allowlist work happens: this host's file (under its lock, here), or, for an
 * ssh:// host served by `dstack system dial-stdio`, the host's own file, where the host's
 * dstack does the same work under the host's lock (dial-stdio.ts).
 */
import { registerAppHash } from "../auth/allowlist-file.ts";
import type { Withdrawal } from "../auth/unused.ts";
import type { VmmClient } from "../core/vmm/client.ts";
import { type WithdrawScope, withdrawUnused } from "./registration.ts";

export interface AllowlistAccess {
  /** The file, for messages (on an ssh:// host: the host's path). */
  where: string;
  register(appId: string, hash: string, opts?: { requireApp?: boolean }): Promise<{ added: boolean }>;
  /** withdrawUnused (registration.ts) against this allowlist. */
  withdrawUnused(c: VmmClient, scope?: WithdrawScope): Promise<Withdrawal[]>;
}

export function fileAllowlist(path: string): AllowlistAccess {
  return {
    where: path,
    register: (appId, hash, opts) => registerAppHash(path, appId, hash, opts),
    withdrawUnused: (c, scope) => withdrawUnused(c, path, scope),
  };
}

/** The host's allowlist through its dial-stdio: the `Dstack.*` calls it answers itself. */
export function hostAllowlist(host: VmmClient, where: string): AllowlistAccess {
  return {
    where,
    register: (appId, hash, opts) =>
      host.call<{ added: boolean }>("Dstack.RegisterApp", { appId, hash, requireApp: opts?.requireApp === true }),
    withdrawUnused: async (_c, scope) => (await host.call<{ withdrawn: Withdrawal[] }>("Dstack.WithdrawUnused", scope ?? {})).withdrawn,
  };
}
