/**
 * The allowlist file: every read-modify-write holds the exclusive flock on
 * `<allowlist>.lock` (interlocking with upstream tools and flock(1)) and ends
 * with an atomic replace, so the webhook never reads a torn file. Under that
 * lock no writer of ours is mid-write, so temp files left by writers that were
 * killed mid-write are swept then (sweepStaleTemps).
 */

import { DstackError, NotFoundError, RefusedError } from "../core/errors.ts";
import { sweepStaleTemps, withLock, writeAtomic } from "../core/fsutil.ts";
import {
  type Allowlist,
  AllowlistError,
  emptyAllowlist,
  findApp,
  parseAllowlist,
  serializeAllowlist,
  withAppHash,
  withoutApp,
} from "./allowlist.ts";
import { AllowlistReadError, readAllowlistText } from "./allowlist-read.ts";

const INSTALL_HINT = "run `dstackup install` first, or check the --allowlist path";

/** The file's text, or undefined when it does not exist; any other failure says why. */
function readText(path: string): string | undefined {
  try {
    return readAllowlistText(path);
  } catch (e) {
    if (e instanceof AllowlistReadError && e.code === "ENOENT") return undefined;
    const hint = e instanceof AllowlistReadError && e.code === "EACCES" ? "it is usually root-owned — run with sudo" : undefined;
    throw new DstackError(`allowlist ${path} ${(e as Error).message}`, hint ? { hint } : {});
  }
}

export function readAllowlistFile(path: string): Allowlist {
  const text = readText(path);
  if (text === undefined) throw new NotFoundError(`allowlist ${path} does not exist`, { hint: INSTALL_HINT });
  try {
    return parseAllowlist(text);
  } catch (e) {
    if (e instanceof AllowlistError) throw new AllowlistError(`allowlist ${path}: ${e.message}`, e.path);
    throw e;
  }
}

export interface UpdateOptions {
  mustExist?: boolean;
  timeoutMs?: number;
  /** Let keys that spell one app id twice through (for an edit that removes them all). */
  collisions?: "allow";
}

/**
 * Apply `fn` to the allowlist under the lock; write only if it changed.
 * A missing file starts from the empty allowlist unless `mustExist`. `fn` may
 * be async (it may ask the VMM which VMs exist): the lock is held until it ends.
 */
export async function updateAllowlist(
  path: string,
  fn: (list: Allowlist) => Allowlist | Promise<Allowlist>,
  opts: UpdateOptions = {},
): Promise<{ list: Allowlist; changed: boolean; created: boolean }> {
  return withLock(
    path,
    async () => {
      sweepStaleTemps(path);
      const text = readText(path);
      if (text === undefined && opts.mustExist) throw new NotFoundError(`allowlist ${path} does not exist`, { hint: INSTALL_HINT });
      const cur = text === undefined ? emptyAllowlist() : parseAllowlistAt(path, text, opts.collisions);
      const next = await fn(cur);
      const out = serializeAllowlist(next);
      if (text !== undefined && out === text) return { list: next, changed: false, created: false };
      if (text !== undefined && JSON.stringify(cur) === JSON.stringify(next)) return { list: next, changed: false, created: false };
      writeAtomic(path, out, { mode: 0o644 });
      return { list: next, changed: true, created: text === undefined };
    },
    { timeoutMs: opts.timeoutMs ?? 10_000 },
  );
}

function parseAllowlistAt(path: string, text: string, collisions?: "allow"): Allowlist {
  try {
    return parseAllowlist(text, collisions ? { collisions } : {});
  } catch (e) {
    if (e instanceof AllowlistError) {
      throw new AllowlistError(
        `allowlist ${path} is invalid (${e.message}); fix it by hand — every app is denied keys until it is valid`,
        e.path,
      );
    }
    throw e;
  }
}

/** An app that is not in the allowlist (revoked, or never registered) when the caller only adds hashes to known apps. */
export class AppNotRegisteredError extends RefusedError {
  constructor(path: string, appId: string) {
    super(`app ${appId} is not in ${path} (it was revoked, or never registered): this would allow it again`, {
      hint: "pass --register to allow it again, or see `dstack allowlist ls`",
    });
    this.name = "AppNotRegisteredError";
  }
}

/**
 * Add `hash` to the app (idempotent). `requireApp`: only to an app already in
 * the file (an upgrade must not quietly undo a revoke); checked under the same
 * lock as the write.
 */
export async function registerAppHash(
  path: string,
  appId: string,
  hash: string,
  opts: { requireApp?: boolean } = {},
): Promise<{ added: boolean }> {
  let added = false;
  await updateAllowlist(
    path,
    (l) => {
      if (opts.requireApp && !findApp(l, appId)) throw new AppNotRegisteredError(path, appId);
      const r = withAppHash(l, appId, hash);
      added = r.added;
      return r.list;
    },
    { mustExist: true },
  );
  return { added };
}

/** Withdraw an app (or one of its hashes) under every key that spells its id; a file whose keys collide is accepted, since this repairs it. */
export async function revokeApp(path: string, appId: string, hash?: string): Promise<{ removed: number }> {
  let removed = 0;
  await updateAllowlist(
    path,
    (l) => {
      const r = withoutApp(l, appId, hash);
      removed = r.removed;
      return r.list;
    },
    { mustExist: true, collisions: "allow" },
  );
  return { removed };
}
