/**
 * A daemon's log file, capped and rotated by size: PATH is the live file, PATH.1 … PATH.<keep>
 * the generations before it (PATH.1 the newest); the oldest is dropped. Each file holds at most
 * `maxBytes` and only whole lines (a single line longer than the cap is kept whole, alone).
 *
 * Rotation keeps the live file's inode (copy, then truncate): whatever else holds it open — the
 * daemon's own stderr in a detached install, where a crash trace lands — keeps writing into the
 * live file, never into a generation or a deleted file. The copy is made by the thread pool
 * (PATH.1.tmp, renamed into place once whole, so a generation appears atomically); lines that
 * arrive meanwhile wait in memory and follow in the new live file, so the event loop never waits
 * for it. Writes are synchronous appends (O_APPEND) of whole batches of lines: the hot path is a
 * length, a compare and one write(2). A write that fails (a full disk) is undone back to the last
 * whole line and its lines counted; the next write that works says how many were lost.
 */
import { closeSync, constants, fstatSync, ftruncateSync, openSync, readdirSync, writeSync } from "node:fs";
import { copyFile, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { O_CLOEXEC } from "../../core/fsutil.ts";

export interface LogCap {
  /** the most one file holds, in bytes */
  maxBytes: number;
  /** how many rotated generations are kept (PATH.1 … PATH.keep), at least 1 */
  keep: number;
}

/** What a rotated generation is called. */
export const generationOf = (path: string, n: number) => `${path}.${n}`;

/** The rotated generations of `path` there are (PATH.<n>, and a PATH.1.tmp a rotation left), any keep. */
export function rotatedOf(path: string): string[] {
  const dir = dirname(path);
  const prefix = `${basename(path)}.`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => n.startsWith(prefix) && /^(\d+|1\.tmp)$/.test(n.slice(prefix.length))).map((n) => join(dir, n));
}

export class LogFile {
  private readonly fd: number;
  private size: number;
  private queue = "";
  private rotation: Promise<void> | undefined;
  private lost = { lines: 0, why: "" };
  /** after a rotation failed: until when the live file may grow past the cap (ms since the epoch) */
  private pastCapUntil = 0;

  /**
   * `lostNotice(lines, why)`: the line (with its newline) that says lines were lost, in the log's
   * own format.
   */
  constructor(
    readonly path: string,
    readonly cap: LogCap,
    private readonly lostNotice: (lines: number, why: string) => string,
  ) {
    this.fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | O_CLOEXEC, 0o640);
    this.size = fstatSync(this.fd).size;
  }

  /** Append whole lines (each ends with "\n"). */
  write(text: string): void {
    if (this.rotation) {
      this.queue += text;
      return;
    }
    const n = Buffer.byteLength(text);
    if (this.size + n <= this.cap.maxBytes || Date.now() < this.pastCapUntil) this.append(text, n);
    else this.overflow(text);
  }

  /** Once a rotation in flight has finished and what waited for it is written. */
  async close(): Promise<void> {
    while (this.rotation) await this.rotation;
    closeSync(this.fd);
  }

  /** Past the cap: the lines that still fit, then a rotation, and the rest after it. */
  private overflow(text: string): void {
    let fits = 0;
    let bytes = 0;
    while (fits < text.length) {
      const end = text.indexOf("\n", fits) + 1 || text.length;
      const b = Buffer.byteLength(text.slice(fits, end));
      if (this.size + bytes + b > this.cap.maxBytes && this.size + bytes > 0) break;
      fits = end;
      bytes += b;
    }
    if (fits > 0) this.append(text.slice(0, fits), bytes);
    this.queue = text.slice(fits);
    this.rotation = this.rotate().finally(() => {
      this.rotation = undefined;
      const rest = this.queue;
      this.queue = "";
      if (rest) this.write(rest);
    });
  }

  /** PATH → PATH.1 (copied whole, then renamed in), PATH.k → PATH.k+1, the live file emptied. */
  private async rotate(): Promise<void> {
    const tmp = `${generationOf(this.path, 1)}.tmp`;
    try {
      await copyFile(this.path, tmp);
      for (let k = this.cap.keep; k > 1; k--) await rename(generationOf(this.path, k - 1), generationOf(this.path, k)).catch(absentOk);
      await rename(tmp, generationOf(this.path, 1));
      ftruncateSync(this.fd, 0);
      this.size = 0;
    } catch {
      // not rotated (a full disk): the live file keeps every line, past the cap, and a second from
      // now the next line past it tries again
      await rm(tmp, { force: true }).catch(() => {});
      this.pastCapUntil = Date.now() + 1000;
    }
  }

  private append(text: string, bytes: number): void {
    let out = text;
    let outBytes = bytes;
    if (this.lost.lines > 0) {
      const notice = this.lostNotice(this.lost.lines, this.lost.why);
      out = notice + text;
      outBytes += Buffer.byteLength(notice);
    }
    try {
      let done = writeSync(this.fd, out);
      if (done < outBytes) {
        const buf = Buffer.from(out);
        while (done < outBytes) done += writeSync(this.fd, buf, done);
      }
      this.size += outBytes;
      if (this.lost.lines > 0) this.lost = { lines: 0, why: "" };
    } catch (e) {
      try {
        ftruncateSync(this.fd, this.size); // back to the last whole line
      } catch {
        /* the next write that works follows whatever is there */
      }
      this.lost = { lines: this.lost.lines + text.split("\n").length - 1, why: (e as NodeJS.ErrnoException).code ?? String(e) };
    }
  }
}

function absentOk(e: NodeJS.ErrnoException): void {
  if (e.code !== "ENOENT") throw e;
}
