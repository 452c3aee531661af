/**
 * The allowlist as the webhook sees it: fresh at every request, parsed only
 * when the file changed. Every decision uses a fresh stat of the file; the parse is
 * cached on its identity (device, inode, size, mtime and ctime in ns; see
 * file-identity.ts), so an update by rename (new inode) is seen by the very next
 * request. A missing, unreadable or invalid file yields an error: the caller
 * denies everything (fail closed).
 *
 * `load()` stats now. `nextLoad()` is what the server uses: the stat is taken
 * at the end of the current event-loop turn, once for every request that asked
 * during that turn. Each of those requests had fully arrived before it asked,
 * so the stat that decides a request is always taken after that request
 * arrived, exactly as a stat of its own would be; a request that asks after
 * the stat has started waits for the next one. Under load one stat serves a
 * whole turn's requests (about 30 with 50 connections) instead of one each.
 */
import { readFileSync } from "node:fs";
import { type Allowlist, parseAllowlist } from "./allowlist.ts";
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

  /** The allowlist as of a stat taken after this call, shared by every call in this event-loop turn. */
  nextLoad(): Promise<Loaded> {
    this.next ??= new Promise<Loaded>((resolve, reject) =>
      setImmediate(() => {
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
