/**
 * The allowlist as the webhook sees it: fresh at every request, parsed only
 * when the file changed. Every decision uses a fresh stat of the file; the parse is
 * cached on its identity (device, inode, size, mtime and ctime in ns; see
 * file-identity.ts), so an update by rename (new inode) is seen by the very next
 * request. A missing, unreadable or invalid file, or one that is not a regular
 * file or is over the size cap (allowlist-read.ts), yields an error at once:
 * the caller denies everything (fail closed).
 *
 * `load()` is what the server calls for every decision, once the request's
 * body has been read, so the look that decides a request is always taken
 * after that request arrived. It costs one empty inotify read when nothing
 * happened (file-identity.ts, change-watch.ts), about a microsecond, so it is
 * taken per request and synchronously: no batching across requests, which
 * would need to wait for a later event-loop turn, and Bun drops a connection
 * whose pipelined requests wait for one, answering none of them.
 */
import { type Allowlist, parseAllowlist } from "./allowlist.ts";
import { AllowlistReadError, readAllowlistText } from "./allowlist-read.ts";
import { type Compiled, compileAllowlist } from "./decide.ts";
import { FileIdentity } from "./file-identity.ts";

export type Loaded = { ok: true; list: Allowlist; compiled: Compiled; key: string } | { ok: false; error: string; key: string };

export class AllowlistSource {
  private cached: Loaded | undefined;
  /** Called once per change of the file's state (not per request). */
  onChange: ((l: Loaded) => void) | undefined;

  private readonly identity: FileIdentity;

  constructor(
    readonly path: string,
    opts: { ffi?: boolean } = {},
  ) {
    this.identity = new FileIdentity(path, opts);
  }

  load(): Loaded {
    const p = this.identity.probe();
    if (p.same && this.cached) return this.cached;
    if ("error" in p) {
      const err = p.error;
      return this.remember({
        ok: false,
        error: err.code === "ENOENT" ? `${this.path} does not exist` : `${this.path}: ${err.message}`,
        key: `missing:${err.code}`,
      });
    }
    const key = p.same ? (this.cached?.key ?? "") : p.key;
    let loaded: Loaded;
    try {
      const list = parseAllowlist(readAllowlistText(this.path));
      loaded = { ok: true, list, compiled: compileAllowlist(list), key };
    } catch (e) {
      const sep = e instanceof AllowlistReadError ? " " : ": ";
      loaded = { ok: false, error: `${this.path}${sep}${(e as Error).message}`, key };
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
