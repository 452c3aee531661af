/**
 * Where a command's allowlist work happens: this host's file (under its lock, here), or, for an
 * ssh:// host served by `dstack system dial-stdio`, the host's own file, where the host's
 * dstack does the same work under the host's lock (dial-stdio.ts).
 */
import type { Allowlist } from "../../auth/allowlist.ts";
import { readAllowlistFile, registerAppHash, revokeApp } from "../../auth/allowlist-file.ts";
import type { Withdrawal } from "../../auth/unused.ts";
import type { VmmClient } from "../../core/vmm/client.ts";
import { hostCall } from "../connect/host-call.ts";
import { type WithdrawScope, withdrawUnused } from "./registration.ts";

export interface AllowlistAccess {
  /** The file's path on the host that holds it. */
  path: string;
  /** The file, for messages (on an ssh:// host: "PATH on ssh://…"). */
  where: string;
  read(): Promise<Allowlist>;
  register(appId: string, hash: string, opts?: { requireApp?: boolean }): Promise<{ added: boolean }>;
  /** Withdraw an app, or one compose hash of it: how many entries went. */
  revoke(appId: string, hash?: string): Promise<{ removed: number }>;
  /** withdrawUnused (registration.ts) against this allowlist. */
  withdrawUnused(c: VmmClient, scope?: WithdrawScope): Promise<Withdrawal[]>;
}

export function fileAllowlist(path: string): AllowlistAccess {
  return {
    path,
    where: path,
    read: async () => readAllowlistFile(path),
    register: (appId, hash, opts) => registerAppHash(path, appId, hash, opts),
    revoke: (appId, hash) => revokeApp(path, appId, hash),
    withdrawUnused: (c, scope) => withdrawUnused(c, path, scope),
  };
}

/** The host's allowlist through its dial-stdio: the `Dstack.*` calls it answers itself. */
export function hostAllowlist(host: VmmClient, path: string, hostUrl: string): AllowlistAccess {
  return {
    path,
    where: `${path} on ${hostUrl}`,
    read: () => hostCall<Allowlist>(host, "Dstack.ReadAllowlist"),
    register: (appId, hash, opts) => hostCall(host, "Dstack.RegisterApp", { appId, hash, requireApp: opts?.requireApp === true }),
    revoke: (appId, hash) => hostCall(host, "Dstack.RevokeApp", { appId, ...(hash ? { hash } : {}) }),
    withdrawUnused: async (_c, scope) =>
      (await hostCall<{ withdrawn: Withdrawal[] }>(host, "Dstack.WithdrawUnused", scope ?? {})).withdrawn,
  };
}
