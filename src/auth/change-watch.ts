/**
 * "Has anything happened to this file since I last asked?" for one syscall that
 * walks no path: ioctl(FIONREAD) of an inotify descriptor, the number of bytes
 * of events queued. statx(2) of the allowlist costs 3-7 µs on this VM under
 * load, this about 1 µs (a bare syscall), and the webhook asks at every
 * request, so the per-request freshness check (file-identity.ts) asks this
 * first and stats only when something happened. FIONREAD rather than an empty
 * read(2): one foreign call that returns an int, where the read needed a
 * second one for errno (EAGAIN, or a failure) and a BigInt for its ssize_t.
 *
 * Watched: the file's directory (a rename into place, a create, a delete, a
 * write or an attribute change of any entry, and the directory itself moved or
 * deleted) and the file's inode (a write through another hard link, the
 * target of a symlink replaced: its link count changes). The kernel queues the
 * event inside the rename/write syscall, before it returns to the writer, so
 * a request sent after an update finds the event here, as it would find the
 * new identity by stat. Not watched: an ancestor of the directory replaced
 * (/etc/dstack moved away and another directory put in its place); the
 * webhook documents that.
 *
 * Any doubt means "something happened": a read that fails for any reason but
 * EAGAIN, a queue overflow (an event too), a watch that cannot be set up.
 */
import { dlopen, FFIType } from "bun:ffi";
import { dirname } from "node:path";

const IN_NONBLOCK = 0o4000;
const IN_CLOEXEC = 0o2000000;
const IN_MODIFY = 0x2;
const IN_ATTRIB = 0x4;
const IN_CLOSE_WRITE = 0x8;
const IN_MOVED_FROM = 0x40;
const IN_MOVED_TO = 0x80;
const IN_CREATE = 0x100;
const IN_DELETE = 0x200;
const IN_DELETE_SELF = 0x400;
const IN_MOVE_SELF = 0x800;
const DIR_MASK =
  IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF;
const FILE_MASK = IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF;
const FIONREAD = 0x541b; // the same value on x86-64 and aarch64

interface Inotify {
  init: () => number;
  add: (fd: number, path: Uint8Array, mask: number) => number;
  rm: (fd: number, wd: number) => number;
  /** ioctl(fd, FIONREAD, out): 0 and the queued bytes in out[0], or -1 */
  queued: (fd: number, out: Int32Array) => number;
  read: (fd: number, buf: Uint8Array, len: number) => number;
}

let lib: Inotify | null | undefined;
function loadInotify(): Inotify | null {
  if (lib !== undefined) return lib;
  lib = null;
  if (process.platform !== "linux") return lib;
  for (const name of ["libc.so.6", "libc.musl-x86_64.so.1", "libc.musl-aarch64.so.1"]) {
    try {
      const l = dlopen(name, {
        inotify_init1: { args: [FFIType.i32], returns: FFIType.i32 },
        inotify_add_watch: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
        inotify_rm_watch: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
        ioctl: { args: [FFIType.i32, FFIType.u64, FFIType.ptr], returns: FFIType.i32 },
        read: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
      });
      lib = {
        init: () => l.symbols.inotify_init1(IN_NONBLOCK | IN_CLOEXEC),
        add: (fd, p, mask) => l.symbols.inotify_add_watch(fd, p, mask),
        rm: (fd, wd) => l.symbols.inotify_rm_watch(fd, wd),
        queued: (fd, out) => l.symbols.ioctl(fd, FIONREAD, out),
        read: (fd, buf, len) => Number(l.symbols.read(fd, buf, len)),
      };
      break;
    } catch {
      /* try the next name */
    }
  }
  return lib;
}

const cstr = (s: string) => new TextEncoder().encode(`${s}\0`);

export class ChangeWatch {
  private readonly buf = new Uint8Array(4096);
  /**
   * FIONREAD's answer. Passed as the typed array itself, not as a pointer kept from ptr(): the
   * storage of a small typed array can move (measured with bun 1.4.5: a kept ptr() of a
   * Uint32Array(64) class field no longer matched its storage after a hot loop and a GC).
   */
  private readonly count = new Int32Array(1);
  private readonly cpath: Uint8Array;
  private readonly cdir: Uint8Array;
  private fileWd = -1;

  private constructor(
    private readonly lib: Inotify,
    private readonly fd: number,
    path: string,
  ) {
    this.cpath = cstr(path);
    this.cdir = cstr(dirname(path));
  }

  /** A watch of `path`, or null where inotify is not available (then every probe stats). */
  static open(path: string): ChangeWatch | null {
    const l = loadInotify();
    if (!l) return null;
    const fd = l.init();
    if (fd < 0) return null;
    const w = new ChangeWatch(l, fd, path);
    return w.rearm() ? w : null;
  }

  /**
   * (Re)set the watches on the current directory and inode at `path`; false
   * when the directory cannot be watched (the caller must stat every time).
   * Called after every stat that followed an event, so a replaced directory
   * or file is watched from then on.
   */
  rearm(): boolean {
    if (this.lib.add(this.fd, this.cdir, DIR_MASK) < 0) return false;
    const wd = this.lib.add(this.fd, this.cpath, FILE_MASK); // the file may be missing: the directory watch sees it come
    if (this.fileWd >= 0 && wd !== this.fileWd) this.lib.rm(this.fd, this.fileWd);
    this.fileWd = wd;
    return true;
  }

  /** True when nothing happened since the last call (the queue was empty); events are consumed. */
  quiet(): boolean {
    const { count } = this;
    count[0] = -1;
    if (this.lib.queued(this.fd, count) === 0 && count[0] === 0) return true;
    // something is queued (or the call failed): drain it, so that the next call reports only what
    // happens after this one
    while (this.lib.read(this.fd, this.buf, this.buf.length) > 0) {}
    return false;
  }
}
