/**
 * `~/.ssh/config` as `ssh HOST` reads it (ssh_config(5)), for the keywords `ssh://ALIAS` needs:
 * HostName, User, Port, IdentityFile, ProxyJump. `Host` patterns with `*`, `?` and `!`
 * negation; for each keyword the first value that applies wins; `Match` blocks are skipped
 * (their conditions need a shell); `Include` is not followed. Pure: text in, settings out.
 */

export interface SshHostConfig {
  hostName?: string;
  user?: string;
  port?: number;
  /** in order; `~/` expanded against `home` */
  identityFiles: string[];
  /** ProxyJump's hops, `[user@]host[:port]` each; "none" gives [] */
  proxyJump?: string[];
}

function patternMatches(pattern: string, host: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
    "i",
  );
  return re.test(host);
}

/** Does a `Host` line's pattern list name `host`: a positive match and no negated one. */
export function hostLineMatches(patterns: string[], host: string): boolean {
  let hit = false;
  for (const p of patterns) {
    if (p.startsWith("!")) {
      if (patternMatches(p.slice(1), host)) return false;
    } else if (patternMatches(p, host)) hit = true;
  }
  return hit;
}

/** A line's keyword and its arguments (`Key value`, `Key=value`, double-quoted arguments). */
function splitLine(raw: string): { key: string; args: string[] } | undefined {
  const line = raw.trim();
  if (!line || line.startsWith("#")) return undefined;
  const m = /^([A-Za-z]+)\s*(?:=\s*|\s+)(.*)$/.exec(line);
  if (!m) return undefined;
  const args: string[] = [];
  for (const a of m[2]!.matchAll(/"([^"]*)"|(\S+)/g)) args.push(a[1] ?? a[2]!);
  return { key: m[1]!.toLowerCase(), args };
}

function expandTilde(p: string, home: string): string {
  return p === "~" ? home : p.startsWith("~/") ? `${home}/${p.slice(2)}` : p;
}

export function resolveSshConfig(text: string, host: string, home: string): SshHostConfig {
  const out: SshHostConfig = { identityFiles: [] };
  let applies = true; // lines before the first Host apply to every host
  for (const raw of text.split("\n")) {
    const l = splitLine(raw);
    if (!l) continue;
    if (l.key === "host") {
      applies = hostLineMatches(l.args, host);
      continue;
    }
    if (l.key === "match") {
      applies = false;
      continue;
    }
    if (!applies || l.args.length === 0) continue;
    const v = l.args[0]!;
    if (l.key === "hostname") out.hostName ??= v.replace(/%h/g, host);
    else if (l.key === "user") out.user ??= v;
    else if (l.key === "port" && out.port === undefined && /^\d+$/.test(v)) out.port = Number(v);
    else if (l.key === "identityfile") out.identityFiles.push(expandTilde(v, home));
    else if (l.key === "proxyjump" && out.proxyJump === undefined)
      out.proxyJump = v.toLowerCase() === "none" ? [] : v.split(",").map((h) => h.trim());
  }
  return out;
}

/** One ProxyJump hop `[user@]host[:port]` (or `ssh://…`). */
export function parseJumpHop(hop: string): { user?: string; host: string; port?: number } {
  const s = hop.replace(/^ssh:\/\//, "");
  const at = s.lastIndexOf("@");
  const user = at >= 0 ? s.slice(0, at) : undefined;
  const rest = at >= 0 ? s.slice(at + 1) : s;
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest) ?? /^([^:]+)(?::(\d+))?$/.exec(rest);
  const host = m ? m[1]! : rest;
  return { ...(user ? { user } : {}), host, ...(m?.[2] ? { port: Number(m[2]) } : {}) };
}
