/**
 * The contexts file of this toolchain's own (src/core/context/contexts.ts): 0600 under the
 * client's config directory (`$XDG_CONFIG_HOME/dstack-tee/contexts.json`, else
 * `~/.config/dstack-tee/contexts.json`; never dstackai's `~/.dstack`), written atomically under
 * its lock, so two `dstack context` calls never lose each other's change.
 */
import { join } from "node:path";
import { type ContextStore, emptyStore, parseContextStore, serializeContextStore } from "../../core/context/contexts.ts";
import { readTextIfExists, withLock, writeAtomic } from "../../core/fsutil.ts";
import type { Env } from "../../core/io.ts";
import { userConfigDir } from "../../core/layout.ts";

export function contextsPath(env: Env): string {
  return join(userConfigDir(env), "contexts.json");
}

export function readContexts(path: string): ContextStore {
  const text = readTextIfExists(path);
  return text === undefined ? emptyStore() : parseContextStore(text, path);
}

/** Change the store under its lock; `fn` edits it in place and returns the command's result. */
export async function updateContexts<T>(path: string, fn: (s: ContextStore) => T): Promise<T> {
  return withLock(path, () => {
    const s = readContexts(path);
    const r = fn(s);
    writeAtomic(path, serializeContextStore(s), { mode: 0o600, forceMode: true });
    return r;
  });
}
