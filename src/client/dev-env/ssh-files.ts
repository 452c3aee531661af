/**
 * The SSH files `dstack attach` keeps for dev environments, in our own config directory:
 * `ssh/config` (one Host block per run) and `ssh/known_hosts` (their attested host keys), both
 * 0600 and written under one lock; and `Include ssh/config` added once on top of the user's
 * `~/.ssh/config` (the user's text kept, a symlinked file written through its link).
 */
import { lstatSync, mkdirSync, realpathSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { type AliasSpec, aliasBlock, hasAlias, withAliasBlock, withPinnedKey } from "../../core/dev-env/ssh-alias.ts";
import { withInclude } from "../../core/dev-env/ssh-include.ts";
import { readTextIfExists, withLock, writeAtomic } from "../../core/fsutil.ts";
import type { Env } from "../../core/io.ts";
import { userConfigDir } from "../../core/layout.ts";

const homeOf = (env: Env) => env.HOME || homedir();

export interface SshFiles {
  config: string;
  knownHosts: string;
  /** the user's ~/.ssh/config */
  userConfig: string;
}

export function sshFiles(env: Env): SshFiles {
  const dir = join(userConfigDir(env), "ssh");
  return { config: join(dir, "config"), knownHosts: join(dir, "known_hosts"), userConfig: join(homeOf(env), ".ssh", "config") };
}

const private600 = { mode: 0o600, forceMode: true } as const;

/** What became of the Include: just added, already there, or why it could not be written. */
export type IncludeResult = { kind: "added" } | { kind: "present" } | { kind: "failed"; reason: string };

function ensureInclude(f: SshFiles, home: string): IncludeResult {
  let target = f.userConfig;
  try {
    if (lstatSync(target).isSymbolicLink()) target = realpathSync(target);
  } catch {
    /* not there yet */
  }
  try {
    const text = withInclude(readTextIfExists(target), f.config, home);
    if (text === undefined) return { kind: "present" };
    mkdirSync(join(home, ".ssh"), { recursive: true, mode: 0o700 });
    writeAtomic(target, text, { mode: 0o600, mkdirs: false });
    return { kind: "added" };
  } catch (e) {
    return { kind: "failed", reason: (e as Error).message };
  }
}

/** Write (or rewrite) the run's alias with its pinned key; make sure ~/.ssh/config includes ours. */
export async function writeAlias(env: Env, spec: Omit<AliasSpec, "knownHostsFile">, key: string): Promise<IncludeResult> {
  const f = sshFiles(env);
  mkdirSync(join(userConfigDir(env), "ssh"), { recursive: true, mode: 0o700 }); // before the lock file makes it 0755
  return withLock(f.config, () => {
    writeAtomic(f.knownHosts, withPinnedKey(readTextIfExists(f.knownHosts) ?? "", spec.alias, key), private600);
    const block = aliasBlock({ ...spec, knownHostsFile: f.knownHosts });
    writeAtomic(f.config, withAliasBlock(readTextIfExists(f.config) ?? "", spec.alias, block), private600);
    return ensureInclude(f, homeOf(env));
  });
}

/** Remove the run's alias and pinned key; false when it had none. */
export async function removeAlias(env: Env, alias: string): Promise<boolean> {
  const f = sshFiles(env);
  const text = readTextIfExists(f.config);
  if (text === undefined || !hasAlias(text, alias)) return false;
  return withLock(f.config, () => {
    const now = readTextIfExists(f.config) ?? "";
    if (!hasAlias(now, alias)) return false;
    writeAtomic(f.config, withAliasBlock(now, alias, undefined), private600);
    writeAtomic(f.knownHosts, withPinnedKey(readTextIfExists(f.knownHosts) ?? "", alias, undefined), private600);
    return true;
  });
}

/** After a run's VM stopped or went: its alias removed, and a note saying so ("" when it had none). */
export async function dropAliasNote(env: Env, alias: string): Promise<string> {
  return (await removeAlias(env, alias)) ? `; its SSH alias ${alias} removed` : "";
}
