/**
 * The SSH identity a dev environment lets in: `--ssh-identity KEY` (its `KEY.pub`, else the
 * public key `ssh-keygen -y` derives), else one this client generates once for itself
 * (ed25519, no passphrase) in its own config directory. The public key is what `apply` seals
 * into the run as its authorized keys.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { DstackError, NotFoundError } from "../../core/errors.ts";
import { withLock } from "../../core/fsutil.ts";
import type { Env } from "../../core/io.ts";
import { userConfigDir } from "../../core/layout.ts";
import { runTool } from "../../host/runner.ts";

export interface SshIdentity {
  /** the private key's path, for IdentityFile */
  privateKey: string;
  /** one OpenSSH public key line */
  publicKey: string;
}

export function defaultIdentityPath(env: Env): string {
  return join(userConfigDir(env), "ssh", "id_ed25519");
}

async function publicKeyOf(key: string): Promise<string> {
  const pub = `${key}.pub`;
  if (existsSync(pub)) return readFileSync(pub, "utf8").trim();
  const r = await runTool(["ssh-keygen", "-y", "-f", key]);
  if (r.code !== 0)
    throw new DstackError(`cannot read the public key of ${key}: ${r.stderr.trim() || `ssh-keygen exited ${r.code}`}`, {
      hint: `put its public key beside it as ${pub}`,
    });
  return r.stdout.trim();
}

/** The identity as it is, nothing generated: undefined when the client's own key does not exist yet. */
export async function existingIdentity(given: string | undefined, env: Env, cwd: string): Promise<SshIdentity | undefined> {
  if (given !== undefined) {
    const key = resolve(cwd, given);
    if (!existsSync(key)) throw new NotFoundError(`--ssh-identity ${given}: no such file`);
    return { privateKey: key, publicKey: await publicKeyOf(key) };
  }
  const key = defaultIdentityPath(env);
  return existsSync(key) ? { privateKey: key, publicKey: await publicKeyOf(key) } : undefined;
}

export async function sshIdentity(given: string | undefined, env: Env, cwd: string): Promise<SshIdentity> {
  const known = await existingIdentity(given, env, cwd);
  if (known) return known;
  const key = defaultIdentityPath(env);
  mkdirSync(dirname(key), { recursive: true, mode: 0o700 }); // before the lock file makes it 0755
  await withLock(key, async () => {
    if (existsSync(key)) return;
    const r = await runTool(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "dstack-tee dev environments", "-f", key]);
    if (r.code !== 0)
      throw new DstackError(`cannot generate an SSH key at ${key}: ${r.stderr.trim() || `ssh-keygen exited ${r.code}`}`, {
        hint: "install OpenSSH's client (ssh-keygen), or pass --ssh-identity KEY",
      });
  });
  return { privateKey: key, publicKey: await publicKeyOf(key) };
}
