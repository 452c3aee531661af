/**
 * The client's secrets for `${{ secrets.NAME }}` (`dstack secret set|list|get|delete`): a JSON
 * file of this toolchain's own (never dstackai's `~/.dstack`), 0600, written atomically under
 * its lock; values leave it only sealed into a run's encrypted env.
 * `$XDG_CONFIG_HOME/dstack-tee/secrets.json`, else `~/.config/dstack-tee/secrets.json`.
 */
import { join } from "node:path";
import { DstackError, UsageError } from "../../core/errors.ts";
import { readTextIfExists, withLock, writeAtomic } from "../../core/fsutil.ts";
import type { Env } from "../../core/io.ts";
import { userConfigDir } from "../../core/layout.ts";

const NAME_RE = /^[A-Za-z0-9_-]{1,200}$/;

export function secretsPath(env: Env): string {
  return join(userConfigDir(env), "secrets.json");
}

export function checkSecretName(name: string): void {
  if (!NAME_RE.test(name)) throw new UsageError(`invalid secret name ${JSON.stringify(name)}: use letters, digits, - and _ (at most 200)`);
}

export function readSecrets(path: string): Record<string, string> {
  const text = readTextIfExists(path);
  if (text === undefined) return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new DstackError(`${path}: not JSON (${(e as Error).message})`);
  }
  const secrets = (v as { secrets?: unknown }).secrets;
  if (!secrets || typeof secrets !== "object" || Object.values(secrets).some((x) => typeof x !== "string")) {
    throw new DstackError(`${path}: expected {"secrets": {"NAME": "value", …}}`);
  }
  return Object.assign(Object.create(null), secrets) as Record<string, string>;
}

/** Change the secrets under the file's lock; `fn` edits the record in place. */
export async function updateSecrets(path: string, fn: (s: Record<string, string>) => void): Promise<void> {
  await withLock(path, () => {
    const s = readSecrets(path);
    fn(s);
    const sorted = Object.fromEntries(
      Object.keys(s)
        .sort()
        .map((k) => [k, s[k]!]),
    );
    writeAtomic(path, `${JSON.stringify({ secrets: sorted }, null, 2)}\n`, { mode: 0o600, forceMode: true });
  });
}
