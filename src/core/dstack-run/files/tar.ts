/**
 * A deterministic tar (POSIX ustar; pax headers for long names) gzipped: the
 * same entries give the same bytes, so archived `files` can be measured into a
 * compose hash. Entries are sorted by path; mtime, uid and gid are 0; only the
 * mode's permission bits are kept.
 */

export type TarEntry = { path: string; mode: number } & (
  | { kind: "file"; data: Uint8Array }
  | { kind: "dir" }
  | { kind: "symlink"; target: string }
);

const enc = new TextEncoder();

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, "0")}\0`;
}

function header(name: string, mode: number, size: number, type: string, linkname = ""): Uint8Array {
  const h = new Uint8Array(512);
  const put = (s: string, off: number, len: number) => h.set(enc.encode(s).subarray(0, len), off);
  put(name, 0, 100);
  put(octal(mode & 0o7777, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(size, 12), 124, 12);
  put(octal(0, 12), 136, 12);
  put("        ", 148, 8);
  put(type, 156, 1);
  put(linkname, 157, 100);
  put("ustar\0", 257, 6);
  put("00", 263, 2);
  let sum = 0;
  for (const b of h) sum += b;
  put(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8);
  return h;
}

function pad(n: number): Uint8Array {
  return new Uint8Array((512 - (n % 512)) % 512);
}

/** A pax record `LEN key=value\n`, LEN counting itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = enc.encode(body).length + 1;
  while (String(len).length + enc.encode(body).length !== len) len = String(len).length + enc.encode(body).length;
  return `${len}${body}`;
}

function fits(s: string): boolean {
  return enc.encode(s).length <= 100;
}

export function tarBytes(entries: TarEntry[]): Uint8Array<ArrayBuffer> {
  const parts: Uint8Array[] = [];
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const e of sorted) {
    const name = e.kind === "dir" && !e.path.endsWith("/") ? `${e.path}/` : e.path;
    const link = e.kind === "symlink" ? e.target : "";
    if (!fits(name) || !fits(link)) {
      const pax = enc.encode(paxRecord("path", name) + (link && !fits(link) ? paxRecord("linkpath", link) : ""));
      parts.push(header("././@PaxHeader", 0o644, pax.length, "x"), pax, pad(pax.length));
    }
    const data = e.kind === "file" ? e.data : new Uint8Array(0);
    parts.push(header(name, e.mode, data.length, e.kind === "file" ? "0" : e.kind === "dir" ? "5" : "2", link), data, pad(data.length));
  }
  parts.push(new Uint8Array(1024));
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** tar + gzip (level 9; Bun's gzip writes mtime 0). */
export function tarGz(entries: TarEntry[]): Uint8Array {
  return Bun.gzipSync(tarBytes(entries), { level: 9 });
}
