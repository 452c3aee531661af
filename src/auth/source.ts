/**
 * The allowlist as the webhook sees it: fresh at every request, parsed only
 * when the file changed. Each request re-stats the file; the parse is cached on
 * its identity (device, inode, size, mtime and ctime in ns), so an update by
 * rename (new inode) is seen by the very next request. A missing, unreadable or
 * invalid file yields an error: the caller denies everything (fail closed).
 */
import { readFileSync, statSync } from "node:fs";
import { type Allowlist, parseAllowlist } from "./allowlist.ts";
import { type Compiled, compileAllowlist } from "./decide.ts";

export type Loaded = { ok: true; list: Allowlist; compiled: Compiled; key: string } | { ok: false; error: string; key: string };

export class AllowlistSource {
  private cached: Loaded | undefined;
  /** Called once per change of the file's state (not per request). */
  onChange: ((l: Loaded) => void) | undefined;

  constructor(readonly path: string) {}

  load(): Loaded {
    let key: string;
    try {
      const s = statSync(this.path, { bigint: true });
      key = `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      key = `missing:${err.code}`;
      return this.remember({ ok: false, error: err.code === "ENOENT" ? `${this.path} does not exist` : `${this.path}: ${err.message}`, key });
    }
    if (this.cached?.key === key) return this.cached;
    let loaded: Loaded;
    try {
      const list = parseAllowlist(readFileSync(this.path, "utf8"));
      loaded = { ok: true, list, compiled: compileAllowlist(list), key };
    } catch (e) {
      loaded = { ok: false, error: `${this.path}: ${(e as Error).message}`, key };
    }
    return this.remember(loaded);
  }

  private remember(l: Loaded): Loaded {
    const changed = this.cached?.key !== l.key;
    this.cached = l;
    if (changed) this.onChange?.(l);
    return l;
  }
}
