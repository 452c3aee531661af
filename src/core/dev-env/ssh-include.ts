/**
 * `Include <our config>` in the user's `~/.ssh/config` (pure): added once, at the top — an
 * Include after a `Host` or `Match` line would only apply inside that block — and the user's
 * own text kept byte for byte below it.
 */

export const INCLUDE_COMMENT = "# Added by dstack attach (dstack-tee): the aliases of your dev environments";

function expandTilde(p: string, home: string): string {
  return p === "~" ? home : p.startsWith("~/") ? `${home}/${p.slice(2)}` : p;
}

/** Is there a top-level `Include` (before any Host/Match) naming `path` (as written or with `~/`)? */
export function includesFile(text: string, path: string, home: string): boolean {
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (/^(host|match)(\s|=)/i.test(line)) return false;
    const m = /^include(?:\s*=\s*|\s+)(.*)$/i.exec(line);
    if (!m) continue;
    for (const a of m[1]!.matchAll(/"([^"]*)"|(\S+)/g)) if (expandTilde(a[1] ?? a[2]!, home) === path) return true;
  }
  return false;
}

/** The user's config with the Include on top, or undefined when it already has it. */
export function withInclude(text: string | undefined, path: string, home: string): string | undefined {
  if (text !== undefined && includesFile(text, path, home)) return undefined;
  const include = /\s/.test(path) ? `Include "${path}"` : `Include ${path}`;
  return `${INCLUDE_COMMENT}\n${include}\n${text ? `\n${text}` : ""}`;
}
