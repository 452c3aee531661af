/**
 * The install lock: one exclusive flock(2) per layout, held by install, destroy and every other
 * command that changes the layout, for its whole run (plan included: two installs must not each
 * pick a token). It lives outside the layout — in /run/dstackup as root, else in a 0700 directory
 * of ours under the temp dir — so that a refused install leaves the layout untouched, and it is
 * keyed by the layout's state directory. A second holder waits a little, then gives up naming the
 * first (its pid and command line, from /proc/locks), or waits as long as it takes.
 */
import { lstatSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DstackError, ExitCode, LockTimeoutError } from "../../core/errors.ts";
import { acquireLock, lockPathFor } from "../../core/fsutil.ts";
import { fnv1a32 } from "../../core/hash.ts";
import type { Layout } from "../../core/layout.ts";

/** How long a second command waits for the lock before exit 75 (without --wait). */
export const LOCK_WAIT_MS = 3000;

/** The directory the locks live in, made private to us. */
function lockDir(): string {
  const uid = process.getuid?.() ?? 0;
  const dir = uid === 0 ? "/run/dstackup" : join(tmpdir(), `dstackup-${uid}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== uid) throw new Error(`${dir} is not a directory of ours (uid ${uid}); remove it`);
  return dir;
}

/** The lock file of a layout (the same for every command on it). */
export function layoutLockPath(layout: Layout): string {
  return lockPathFor(join(lockDir(), `layout-${fnv1a32(layout.stateDir).toString(16).padStart(8, "0")}`));
}

/** Who holds the flock on `path`, from /proc/locks: "pid N (command line)", or undefined. */
export function lockHolder(path: string): string | undefined {
  let ino: number;
  let locks: string;
  try {
    ino = statSync(path).ino;
    locks = readFileSync("/proc/locks", "utf8");
  } catch {
    return undefined;
  }
  for (const line of locks.split("\n")) {
    const f = line.trim().split(/\s+/);
    // "1: FLOCK  ADVISORY  WRITE 1234 fe:00:5390390 0 EOF"
    if (f[1] !== "FLOCK" || Number(f[5]?.split(":")[2]) !== ino) continue;
    const pid = Number(f[4]);
    if (pid === process.pid) continue;
    let cmd = "";
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
    } catch {
      /* gone, or not ours to see */
    }
    return cmd ? `pid ${pid} (${cmd})` : `pid ${pid}`;
  }
  return undefined;
}

/** The lock was held by another command for the whole wait. Exit 75 (EX_TEMPFAIL). */
export class LayoutBusyError extends DstackError {
  readonly lockPath: string;
  constructor(lockPath: string, stateDir: string, waitedMs: number, holder: string | undefined) {
    super(
      `another dstackup command is changing the install at ${stateDir}${holder ? `: ${holder}` : ""} (it holds ${lockPath}; waited ${waitedMs / 1000} s)`,
      { hint: "let it finish and run this again, or pass --wait to wait for it" },
    );
    this.name = "LayoutBusyError";
    this.lockPath = lockPath;
  }
  override get exitCode(): number {
    return ExitCode.lockTimeout;
  }
}

export interface LayoutLockOptions {
  /** Wait as long as it takes (--wait), instead of LOCK_WAIT_MS. */
  wait?: boolean;
  /** Told once when the lock is held and we wait for it. */
  onWait?: (holder: string | undefined) => void;
}

/** Run `fn` holding the layout's lock. */
export async function withLayoutLock<T>(layout: Layout, fn: () => Promise<T>, opts: LayoutLockOptions = {}): Promise<T> {
  const path = layoutLockPath(layout);
  const base = path.slice(0, -".lock".length);
  let release: () => void;
  try {
    release = await acquireLock(base, { timeoutMs: 0 });
  } catch (e) {
    if (!(e instanceof LockTimeoutError)) throw e;
    opts.onWait?.(lockHolder(path));
    try {
      release = await acquireLock(base, { timeoutMs: opts.wait ? Number.POSITIVE_INFINITY : LOCK_WAIT_MS, pollMs: 50 });
    } catch (e2) {
      if (!(e2 instanceof LockTimeoutError)) throw e2;
      throw new LayoutBusyError(path, layout.stateDir, LOCK_WAIT_MS, lockHolder(path));
    }
  }
  try {
    return await fn();
  } finally {
    release();
  }
}
