/**
 * The SSH config `dstack attach` writes for a dev environment, as text (pure): one `Host NAME`
 * block per run in a file of our own, and the attested host key pinned in a known_hosts of our
 * own under the alias (HostKeyAlias), checked strictly. Blocks are found by their `Host` line,
 * so rewriting one run's block keeps the others. Every value is checked to be one token (no
 * newline, no control character): the host name and port come from the VMM, and a newline there
 * would add options (a ProxyCommand) to the user's SSH config.
 */

export interface AliasSpec {
  alias: string;
  hostName: string;
  port: number;
  user: string;
  identityFile: string;
  knownHostsFile: string;
  /** `[user@]host[:port]` of the VMM's host when it is reached over ssh:// */
  proxyJump?: string;
}

const refuse = (s: unknown): never => {
  throw new Error(`cannot write ${JSON.stringify(s)} into an SSH config`);
};

/** ssh_config(5) argument: double-quoted when it holds a space. */
function arg(s: string): string {
  if (/["\x00-\x1f\x7f]/.test(s)) refuse(s);
  return / /.test(s) ? `"${s}"` : s;
}

/** A value that must be one plain token: a host name or address, an alias, `[user@]host[:port]` (no `%` token either). */
function token(s: string): string {
  return /^[A-Za-z0-9._@:[\]-]+$/.test(s) && !s.startsWith("-") ? s : refuse(s);
}

const portArg = (p: number): number => (Number.isInteger(p) && p >= 1 && p <= 65535 ? p : refuse(p));

export function aliasBlock(s: AliasSpec): string {
  const lines = [
    `Host ${token(s.alias)}`,
    `    HostName ${token(s.hostName)}`,
    `    Port ${portArg(s.port)}`,
    `    User ${arg(s.user)}`,
    `    IdentityFile ${arg(s.identityFile)}`,
    "    IdentitiesOnly yes",
    `    HostKeyAlias ${token(s.alias)}`,
    `    UserKnownHostsFile ${arg(s.knownHostsFile)}`,
    "    GlobalKnownHostsFile /dev/null",
    "    StrictHostKeyChecking yes",
    "    UpdateHostKeys no",
    ...(s.proxyJump ? [`    ProxyJump ${token(s.proxyJump)}`] : []),
  ];
  return `${lines.join("\n")}\n`;
}

const hostLine = (line: string) => /^\s*Host\s+(.*)$/i.exec(line)?.[1]?.trim().split(/\s+/);

/** The config text with `alias`'s block replaced by `block` (appended when new), or removed when `block` is undefined. */
export function withAliasBlock(text: string, alias: string, block: string | undefined): string {
  const kept: string[] = [];
  let skipping = false;
  for (const line of text.split("\n")) {
    const names = hostLine(line);
    if (names) skipping = names.length === 1 && names[0] === alias;
    if (!skipping) kept.push(line);
  }
  let out = kept
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
  if (block) out = out ? `${out}\n\n${block.trimEnd()}` : block.trimEnd();
  return out ? `${out}\n` : "";
}

/** Does the config have a block for `alias`? */
export function hasAlias(text: string, alias: string): boolean {
  return text.split("\n").some((l) => {
    const names = hostLine(l);
    return names?.length === 1 && names[0] === alias;
  });
}

/** The known_hosts text with `alias`'s key set to `key` (`<type> <base64>`), or removed when undefined. */
export function withPinnedKey(text: string, alias: string, key: string | undefined): string {
  const lines = text.split("\n").filter((l) => l.trim() !== "" && l.split(/\s+/)[0] !== alias);
  if (key) lines.push(`${alias} ${key}`);
  return lines.length ? `${lines.join("\n")}\n` : "";
}
