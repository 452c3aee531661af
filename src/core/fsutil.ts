/**
 * Crash-safe file writes and cross-process locks.
 *
 * writeAtomic: temp file in the same directory (unique name, created with the
 * final mode), write, fsync, rename over the target, fsync the directory. A
 * reader sees the old file or the new one, never a torn or empty one. When the
 * target exists its mode and owner are kept.
 *
 * withLock: exclusive flock(2) on `<path>.lock` through bun:ffi (Bun has no
 * flock), taken non-blocking in a poll loop so the event loop keeps running,
 * on a close-on-exec descriptor so children (systemctl, docker) never inherit
 * it. Interlocks with util-linux flock(1) and upstream's Rust tools.
 */
import { dlopen, FFIType, read } from "bun:ffi";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  chownSync,
  closeSync,
  constants,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { LockTimeoutError } from "./errors.ts";

/** Linux O_CLOEXEC; Node's typings omit it. */
export const O_CLOEXEC: number = (constants as Record<string, number>).O_CLOEXEC ?? 0o2000000;

export interface WriteAtomicOptions {
  /** Mode for a new file (default 0o644). An existing target keeps its own mode unless `forceMode`. */
  mode?: number;
  /** Apply `mode` even when replacing an existing file (e.g. the 0600 token). */
  forceMode?: boolean;
  /** Create missing parent directories (mode 0755). Default true. */
  mkdirs?: boolean;
}

function existingStat(path: string) {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

export function writeAtomic(path: string, data: string | Uint8Array, opts: WriteAtomicOptions = {}): void {
  const dir = dirname(path);
  if (opts.mkdirs !== false) mkdirSync(dir, { recursive: true, mode: 0o755 });
  const prev = existingStat(path);
  const mode = prev && !opts.forceMode ? prev.mode & 0o7777 : (opts.mode ?? 0o644);
  const tmp = join(dir, `${tempPrefix(path)}${randomBytes(6).toString("hex")}`);
  // O_EXCL: never follow or reuse a file someone planted under the temp name.
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_CLOEXEC, mode);
  let renamed = false;
  let closed = false;
  try {
    chmodSync(tmp, mode); // the umask must not widen or narrow what we asked for
    if (prev && (prev.uid !== process.getuid?.() || prev.gid !== process.getgid?.())) {
      try {
        chownSync(tmp, prev.uid, prev.gid);
      } catch {
        /* not permitted as non-root: the file stays ours */
      }
    }
    const bytes = typeof data === "string" ? Buffer.from(data) : data;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closed = true;
    closeSync(fd);
    renameSync(tmp, path);
    renamed = true;
    fsyncDir(dir);
  } catch (err) {
    if (!renamed) {
      // Never close twice: the number may already belong to another open file.
      if (!closed) {
        try {
          closeSync(fd);
        } catch {
          /* ignore */
        }
      }
      try {
        unlinkSync(tmp);
      } catch {
        /* gone */
      }
    }
    throw err;
  }
}

/** The name writeAtomic's temp files of `path` start with (then 12 hex digits). */
function tempPrefix(path: string): string {
  return `.${basename(path)}.tmp-`;
}

/**
 * Remove the temp files writeAtomic(path) left behind when its writer was
 * killed mid-write. Call it only while holding the lock every writer of `path`
 * holds (withLock): then no live writer has a temp file there. Only regular
 * files with exactly that name shape are removed; returns how many.
 */
export function sweepStaleTemps(path: string): number {
  const dir = dirname(path);
  const prefix = tempPrefix(path);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    if (!name.startsWith(prefix) || !/^[0-9a-f]{12}$/.test(name.slice(prefix.length))) continue;
    const p = join(dir, name);
    try {
      if (!lstatSync(p).isFile()) continue;
      unlinkSync(p);
      removed++;
    } catch {
      /* gone already, or not ours to remove */
    }
  }
  return removed;
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY | O_CLOEXEC);
    fsyncSync(fd);
  } catch {
    /* some filesystems refuse fsync on directories; the rename is still atomic */
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

// ---- flock through libc -------------------------------------------------------

const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;
const EINTR = 4;
const EWOULDBLOCK = 11;

type Libc = {
  flock: (fd: number, op: number) => number;
  errno: () => number;
};

let libc: Libc | undefined;

function loadLibc(): Libc {
  if (libc) return libc;
  let lastErr: unknown;
  for (const name of ["libc.so.6", "libc.musl-x86_64.so.1", "libc.musl-aarch64.so.1", "libc.so"]) {
    try {
      const lib = dlopen(name, {
        flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
        __errno_location: { args: [], returns: FFIType.ptr },
      });
      libc = {
        flock: (fd, op) => lib.symbols.flock(fd, op),
        errno: () => {
          const p = lib.symbols.__errno_location();
          return p ? read.i32(p, 0) : 0;
        },
      };
      return libc;
    } catch (e) {
      lastErr = e;
    }
  }
  throw new Error(`cannot load libc for flock(2): ${lastErr instanceof Error ? lastErr.message : lastErr}`);
}

export interface LockOptions {
  /** Give up after this long (default 10 s) with a LockTimeoutError (exit 75). */
  timeoutMs?: number;
  /** Poll interval while the lock is held elsewhere (default 20 ms). */
  pollMs?: number;
}

/** The lock file guarding `path`. */
export function lockPathFor(path: string): string {
  return `${path}.lock`;
}

/**
 * Open (or create) the lock file, close-on-exec. flock(2) needs no write
 * access, so an existing lock file we may only read (e.g. root's 0644) still works.
 */
function openLockFile(lockPath: string): number {
  try {
    return openSync(lockPath, constants.O_RDWR | constants.O_CREAT | O_CLOEXEC, 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EACCES") throw e;
    return openSync(lockPath, constants.O_RDONLY | O_CLOEXEC);
  }
}

/** Take the exclusive lock on `<path>.lock`; returns a release function. */
export async function acquireLock(path: string, opts: LockOptions = {}): Promise<() => void> {
  const lockPath = lockPathFor(path);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const pollMs = opts.pollMs ?? 20;
  const c = loadLibc();
  mkdirSync(dirname(lockPath), { recursive: true });
  const fd = openLockFile(lockPath);
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (c.flock(fd, LOCK_EX | LOCK_NB) === 0) break;
    const errno = c.errno();
    if (errno !== EWOULDBLOCK && errno !== EINTR) {
      closeSync(fd);
      throw new Error(`flock(${lockPath}) failed: errno ${errno}`);
    }
    if (performance.now() >= deadline) {
      closeSync(fd);
      throw new LockTimeoutError(lockPath, timeoutMs);
    }
    await Bun.sleep(pollMs);
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    c.flock(fd, LOCK_UN);
    closeSync(fd);
  };
}

/** Run `fn` holding the exclusive lock on `<path>.lock`. The lock file is never deleted. */
export async function withLock<T>(path: string, fn: () => T | Promise<T>, opts: LockOptions = {}): Promise<T> {
  const release = await acquireLock(path, opts);
  try {
    return await fn();
  } finally {
    release();
  }
}

/** Read a file as text, or undefined when it does not exist. */
export function readTextIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}
