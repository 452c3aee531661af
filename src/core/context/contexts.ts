/**
 * Contexts, as docker's (`docker context`): a named endpoint — `--host` for every command —
 * with a description, and which one is current. The store's format and the rules on names and
 * hosts; reading and writing the file is src/client/context/store.ts.
 *
 *   {"current": "prod", "contexts": {"prod": {"host": "ssh://admin@box", "description": "…", "kmsSigner": "0x02…"}}}
 */
import { DstackError, UsageError } from "../errors.ts";
import { parseSshHost } from "../vmm/transport-ssh.ts";

/** The context of no stored endpoint: this machine's install (or DSTACK_HOST). */
export const DEFAULT_CONTEXT = "default";

export interface StoredContext {
  host: string;
  description: string;
  /** The KMS signer env keys must carry, pinned on this machine (over what an ssh:// host recorded). */
  kmsSigner?: string;
}

export interface ContextStore {
  current: string | undefined;
  contexts: Record<string, StoredContext>;
}

export const emptyStore = (): ContextStore => ({ current: undefined, contexts: Object.create(null) });

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,99}$/;

/** docker's rule for a context name (a letter or digit, then letters, digits, `_ . + -`), at most 100; not `default`. */
export function checkContextName(name: string): void {
  if (name === DEFAULT_CONTEXT) throw new UsageError(`"${DEFAULT_CONTEXT}" is the context of this machine's install: pick another name`);
  if (!NAME_RE.test(name))
    throw new UsageError(
      `invalid context name ${JSON.stringify(name)}: a letter or digit, then letters, digits, '_', '.', '+' or '-' (at most 100)`,
    );
}

/** A host URL as --host takes it: unix:PATH, an absolute socket path, http(s)://HOST:PORT or ssh://[USER@]HOST[:PORT][…]. */
export function checkHostUrl(url: string): string {
  const h = url.trim();
  const bad = () =>
    new UsageError(`--host ${JSON.stringify(url)}: expected unix:PATH, http(s)://HOST:PORT or ssh://[USER@]HOST[:PORT][?prefix=DIR]`);
  if (h.startsWith("ssh://")) parseSshHost(h, {});
  else if (/^https?:\/\//.test(h)) {
    if (!URL.canParse(h) || !new URL(h).hostname) throw bad();
  } else if (!/^(unix:)?\/./.test(h)) throw bad();
  return h;
}

export function parseContextStore(text: string, path: string): ContextStore {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new DstackError(`${path}: not JSON (${(e as Error).message})`, { hint: "fix or remove the file (`dstack context` rewrites it)" });
  }
  const o = v as { current?: unknown; contexts?: unknown };
  const bad = (what: string) =>
    new DstackError(`${path}: ${what}`, { hint: 'expected {"current": NAME, "contexts": {NAME: {"host": URL, "description": TEXT}}}' });
  if (!o || typeof o !== "object" || Array.isArray(o)) throw bad("not an object");
  if (o.current !== undefined && o.current !== null && typeof o.current !== "string") throw bad("current is not a name");
  const out = emptyStore();
  if (typeof o.current === "string" && o.current !== DEFAULT_CONTEXT) out.current = o.current;
  const cs = o.contexts ?? {};
  if (typeof cs !== "object" || Array.isArray(cs)) throw bad("contexts is not an object");
  for (const [name, c] of Object.entries(cs as Record<string, unknown>)) {
    const r = c as { host?: unknown; description?: unknown; kmsSigner?: unknown };
    if (!r || typeof r.host !== "string") throw bad(`context ${JSON.stringify(name)} has no host`);
    if (r.kmsSigner !== undefined && typeof r.kmsSigner !== "string") throw bad(`context ${JSON.stringify(name)}: kmsSigner is not a key`);
    out.contexts[name] = { host: r.host, description: typeof r.description === "string" ? r.description : "" };
    if (typeof r.kmsSigner === "string") out.contexts[name]!.kmsSigner = r.kmsSigner;
  }
  return out;
}

export function serializeContextStore(s: ContextStore): string {
  const contexts = Object.fromEntries(
    Object.keys(s.contexts)
      .sort()
      .map((n) => [n, s.contexts[n]!]),
  );
  return `${JSON.stringify({ ...(s.current ? { current: s.current } : {}), contexts }, null, 2)}\n`;
}
