/**
 * The SSH config `dstack attach` writes for a dev environment, as text (pure): one `Host NAME`
 * block per run in a file of our own, and the attested host key pinned in a known_hosts of our
 * own under the alias (HostKeyAlias), checked strictly. Blocks are found by their `Host` line,
 * so rewriting one run's block keeps the others.
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

/** ssh_config(5) argument: double-quoted when it holds whitespace. */
function arg(s: string): string {
  if (/["\n]/.test(s)) throw new Error(`cannot write ${JSON.stringify(s)} into an SSH config`);
  return /\s/.test(s) ? `"${s}"` : s;
}

export function aliasBlock(s: AliasSpec): string {
  const lines = [
    `Host ${s.alias}`,
    `    HostName ${s.hostName}`,
    `    Port ${s.port}`,
    `    User ${arg(s.user)}`,
    `    IdentityFile ${arg(s.identityFile)}`,
    "    IdentitiesOnly yes",
    `    HostKeyAlias ${s.alias}`,
    `    UserKnownHostsFile ${arg(s.knownHostsFile)}`,
    "    GlobalKnownHostsFile /dev/null",
    "    StrictHostKeyChecking yes",
    "    UpdateHostKeys no",
    ...(s.proxyJump ? [`    ProxyJump ${s.proxyJump}`] : []),
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
