/**
 * The identity of a file (device, inode, size, mtime and ctime in ns), read on
 * every webhook request. node:fs's bigint stat allocates an object and five
 * BigInts per call and was the largest cost of a decision; here statx(2) is
 * called through bun:ffi into one reused buffer and the identity words are
 * compared in place, so an unchanged file costs one syscall and no allocation.
 * Cheaper still: an inotify watch (change-watch.ts) is read first, and when
 * nothing happened to the file or its directory since the last probe, that
 * empty read (no path walk) is the whole probe. Where libc, statx or inotify
 * is not available, statx or node:fs's statSync does the job alone.
 */
import { dlopen, FFIType } from "bun:ffi";
import { statSync } from "node:fs";
import { ChangeWatch } from "./change-watch.ts";

/** `same`: unchanged since the last probe; otherwise the new identity, or the stat error. */
export type Probe = { same: true } | { same: false; key: string } | { same: false; error: NodeJS.ErrnoException };

const SAME: Probe = Object.freeze({ same: true });
const AT_FDCWD = -100;
const STATX_BASIC_STATS = 0x7ff;
/**
 * u32 word ranges of struct statx that make the identity: stx_ino and stx_size
 * (bytes 32-48), stx_ctime and stx_mtime (96-128), stx_dev_major/minor (136-144).
 */
const WORDS: [number, number][] = [
  [8, 12],
  [24, 32],
  [34, 36],
];

type Statx = (dirfd: number, path: Uint8Array, flags: number, mask: number, buf: Uint32Array) => number;

let statxFn: Statx | null | undefined;
function loadStatx(): Statx | null {
  if (statxFn !== undefined) return statxFn;
  statxFn = null;
  if (process.platform !== "linux") return statxFn;
  for (const name of ["libc.so.6", "libc.musl-x86_64.so.1", "libc.musl-aarch64.so.1"]) {
    try {
      const lib = dlopen(name, {
        statx: { args: [FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.u32, FFIType.ptr], returns: FFIType.i32 },
      });
      statxFn = (d, p, f, m, b) => lib.symbols.statx(d, p, f, m, b);
      break;
    } catch {
      /* try the next name */
    }
  }
  return statxFn;
}

export class FileIdentity {
  private readonly cpath: Uint8Array;
  /**
   * struct statx is 256 bytes. Passed to statx as the typed array itself on every call, never as a
   * pointer kept from ptr(): a small typed array's storage can move (seen with bun 1.4.5 after a
   * hot loop and a GC), and statx would then write where the identity is not read — a changed
   * allowlist could read as unchanged.
   */
  private readonly buf = new Uint32Array(64);
  private readonly last = new Uint32Array(64);
  /** `last` holds the identity words of the previous successful statx. */
  private lastValid = false;
  /** The identity key of the previous probe from node:fs (fallback path). */
  private lastKey: string | undefined;
  private readonly statx: Statx | null;
  private watch: ChangeWatch | null;

  constructor(
    readonly path: string,
    opts: { ffi?: boolean; inotify?: boolean } = {},
  ) {
    this.cpath = new TextEncoder().encode(`${path}\0`);
    this.statx = opts.ffi === false ? null : loadStatx();
    this.watch = this.statx && opts.inotify !== false ? ChangeWatch.open(path) : null;
  }

  /** Say whether the file's identity changed since the last call (a stat now, unless the watch says nothing happened). */
  probe(): Probe {
    if (this.watch) {
      // Nothing happened since a probe that found the file: the same. Otherwise stat, and watch what is there now.
      if (this.watch.quiet() && this.lastValid) return SAME;
      if (!this.watch.rearm()) this.watch = null;
    }
    if (this.statx && this.statx(AT_FDCWD, this.cpath, 0, STATX_BASIC_STATS, this.buf) === 0) {
      const { buf, last } = this;
      let same = this.lastValid;
      for (const [a, b] of WORDS) {
        for (let i = a; i < b; i++) {
          if (buf[i] !== last[i]) {
            same = false;
            last[i] = buf[i]!;
          }
        }
      }
      if (same) return SAME;
      this.lastValid = true;
      this.lastKey = undefined;
      return { same: false, key: WORDS.map(([a, b]) => Array.from(last.subarray(a, b), (w) => w.toString(16)).join(".")).join(":") };
    }
    // No statx, or it failed: node:fs says why (and gives the identity when the failure was transient).
    let key: string;
    try {
      const s = statSync(this.path, { bigint: true });
      key = `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
    } catch (e) {
      this.lastValid = false;
      this.lastKey = undefined;
      return { same: false, error: e as NodeJS.ErrnoException };
    }
    this.lastValid = false;
    if (key === this.lastKey) return SAME;
    this.lastKey = key;
    return { same: false, key };
  }
}
