/**
 * The allowlist as the webhook sees it: fresh at every request, parsed only
 * when the file changed. Every decision uses a fresh stat of the file; the parse is
 * cached on its identity (device, inode, size, mtime and ctime in ns; see
 * file-identity.ts), so an update by rename (new inode) is seen by the very next
 * request. A missing, unreadable or invalid file, or one that is not a regular
 * file or is over the size cap (allowlist-read.ts), yields an error at once:
 * the caller denies everything (fail closed).
 *
 * `load()` stats now. `nextLoad()` is what the server uses: the stat is taken
 * in a microtask queued by the first request that asks, once for every request
 * that asks before it runs. Each of those requests had fully arrived before it
 * asked, so the stat that decides a request is always taken after that request
 * arrived, exactly as a stat of its own would be; a request that asks after
 * the stat has started waits for the next one. A microtask, not a later
 * event-loop turn (setImmediate): Bun drops a connection whose pipelined
 * requests wait for a macrotask, answering none of them.
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

  private next: Promise<Loaded> | undefined;

  /** The allowlist as of a stat taken after this call, shared by every call made before that stat. */
  nextLoad(): Promise<Loaded> {
    this.next ??= new Promise<Loaded>((resolve, reject) =>
      queueMicrotask(() => {
        this.next = undefined; // a call from here on waits for a later stat
        try {
          resolve(this.load());
        } catch (e) {
          reject(e);
        }
      }),
    );
    return this.next;
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
