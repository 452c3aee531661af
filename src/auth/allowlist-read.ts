/**
 * Reading the allowlist's bytes safely: only a regular file, at most
 * MAX_ALLOWLIST_BYTES. The file is opened non-blocking (a FIFO opens at once
 * instead of waiting for a writer) and judged by fstat of the descriptor it was
 * opened as, so a symlink to /dev/zero or /dev/urandom, a FIFO, a socket or a
 * directory is refused at once, before a byte is read, and a file swapped in
 * after the check is never the one read. A regular file that grows past the
 * cap while it is read is refused too: reading stops one byte past the cap.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { O_CLOEXEC } from "../core/fsutil.ts";

/** 4 MiB: some 30,000 apps with two hashes each. */
export const MAX_ALLOWLIST_BYTES = 4 * 1024 * 1024;

/** Why a path is not readable as an allowlist; `code` is ENOENT for a missing file. */
export class AllowlistReadError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = "AllowlistReadError";
  }
}

const O_NONBLOCK: number = constants.O_NONBLOCK ?? 0o4000;

function kindOf(s: ReturnType<typeof fstatSync>): string {
  if (s.isDirectory()) return "a directory";
  if (s.isFIFO()) return "a FIFO (named pipe)";
  if (s.isCharacterDevice()) return "a character device";
  if (s.isBlockDevice()) return "a block device";
  if (s.isSocket()) return "a socket";
  return "not a regular file";
}

/** The file's text; throws AllowlistReadError (with the errno code, or NOTREG / TOOBIG). */
export function readAllowlistText(path: string, maxBytes = MAX_ALLOWLIST_BYTES): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new AllowlistReadError(err.code === "ENOENT" ? "does not exist" : `cannot be read: ${err.message}`, err.code ?? "EIO");
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new AllowlistReadError(`is ${kindOf(st)}, not a regular file`, "NOTREG");
    if (st.size > maxBytes) throw new AllowlistReadError(`is ${st.size} bytes, over the ${maxBytes}-byte limit`, "TOOBIG");
    // fstat's size is a hint: the buffer grows (up to one byte past the cap) if the file grows meanwhile
    let buf = Buffer.allocUnsafe(Math.min(maxBytes + 1, st.size + 1));
    let n = 0;
    for (;;) {
      if (n === buf.length) {
        if (n > maxBytes) throw new AllowlistReadError(`grew past the ${maxBytes}-byte limit while being read`, "TOOBIG");
        const bigger = Buffer.allocUnsafe(Math.min(maxBytes + 1, buf.length * 2));
        buf.copy(bigger, 0, 0, n);
        buf = bigger;
      }
      const r = readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) return buf.toString("utf8", 0, n);
      n += r;
    }
  } finally {
    closeSync(fd);
  }
}
