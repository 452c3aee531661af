/**
 * Where the client finds the VMM, its token and the allowlist:
 * flags (--host or --context, --token, --allowlist) → environment (DSTACK_HOST, DSTACK_TOKEN;
 * upstream's DSTACK_VMM_URL, DSTACK_VMM_TOKEN; DSTACK_CONTEXT) → the current context
 * (`dstack context use`) → the install state file of the layout (--prefix) → its token file. The KMS signer that env keys must carry likewise:
 * --kms-signer → DSTACK_KMS_SIGNER → the context's pinned kmsSigner → the state's kms_signer (only
 * when the VMM is the install's; for an ssh:// host, the one the host recorded: session.ts).
 */

import { readFileSync } from "node:fs";
import { chooseContext } from "../../core/context/choose.ts";
import type { StoredContext } from "../../core/context/contexts.ts";
import { DstackError, NotFoundError, UsageError } from "../../core/errors.ts";
import type { Env } from "../../core/io.ts";
import { parseSigner } from "../../core/keys/env-key-signature.ts";
import { resolveLayout } from "../../core/layout.ts";
import { TomlParseError } from "../../core/render/toml.ts";
import type { PortPolicy } from "../../core/specs/ports.ts";
import { portPolicyFromVmmToml } from "../../core/specs/vmm-port-policy.ts";
import { connectVmm, type VmmClient } from "../../core/vmm/client.ts";
import { isDialHost } from "../../core/vmm/transport-ssh.ts";
import { readClientState } from "../../host/install/state.ts";
import { type AllowlistAccess, fileAllowlist } from "../allowlist/allowlist-access.ts";
import { contextsPath, readContexts } from "../context/store.ts";

export interface EndpointFlags {
  host?: string | undefined;
  context?: string | undefined;
  token?: string | undefined;
  prefix?: string | undefined;
  allowlist?: string | undefined;
  "insecure-host-key"?: boolean | undefined;
  "kms-signer"?: string | undefined;
}

export interface Endpoint {
  host: string;
  token: string | undefined;
  /** where the host came from, for messages */
  source: string;
  /** The context whose host this is (`dstack context`), when one is in use. */
  context?: string;
  allowlistPath: string;
  /** Where registrations go: allowlistPath here, or the host's file through its dstack (ssh://, session.ts). */
  allowlist: AllowlistAccess;
  image: string | undefined;
  tokenProblem?: string;
  /** The VMM's port-mapping policy, when the VMM is this host's install (its vmm.toml is readable). */
  portPolicy?: PortPolicy;
  /** Why this host's vmm.toml gave no port policy although it is there (it does not parse). */
  portPolicyProblem?: string;
  /** The KMS signer env keys must carry: --kms-signer → DSTACK_KMS_SIGNER → this install's state (its own VMM only). */
  kmsSigner?: string;
}

/**
 * `installOnly`: the install's own VMM, whatever the flags, environment and contexts say (the
 * host's side of an ssh:// endpoint, dial-stdio.ts).
 */
export function resolveEndpoint(f: EndpointFlags, environ: Env, opts: { installOnly?: boolean } = {}): Endpoint {
  const env = (k: string) => (!opts.installOnly && environ[k] && environ[k] !== "" ? environ[k] : undefined);
  const layout = resolveLayout({ prefix: f.prefix });
  const st = readClientState(layout.stateFile);
  let host = opts.installOnly ? undefined : f.host;
  let source = "--host";
  const ctx = opts.installOnly ? undefined : chooseContext(f, environ, () => readContexts(contextsPath(environ)).current);
  let context: string | undefined;
  let stored: StoredContext | undefined;
  if (ctx) {
    stored = readContexts(contextsPath(environ)).contexts[ctx.name];
    if (!stored)
      throw new NotFoundError(`context "${ctx.name}" (${ctx.from}) does not exist`, {
        hint: "see `dstack context ls`; create it with `dstack context create NAME --host URL`",
      });
    [host, source, context] = [stored.host, `context ${ctx.name}`, ctx.name];
  }
  if (!host && env("DSTACK_HOST")) [host, source] = [env("DSTACK_HOST"), "DSTACK_HOST"];
  if (!host && env("DSTACK_VMM_URL")) [host, source] = [env("DSTACK_VMM_URL"), "DSTACK_VMM_URL"];
  if (!host && st?.clientUrl) [host, source] = [st.clientUrl, layout.stateFile];
  if (!host) {
    // exit 3 like `dstackup status` for the same missing install
    throw new NotFoundError(`no VMM endpoint: no --host, no DSTACK_HOST, and no install state at ${layout.stateFile}`, {
      hint: `${f.prefix ? `run \`dstackup install --prefix ${f.prefix}\` (add --simulate to try it without TDX)` : "run `dstackup install` (or `dstackup install --simulate --prefix DIR` and pass --prefix DIR)"}, or pass --host unix:/path/vmm.sock | http://HOST:PORT | ssh://user@host`,
    });
  }
  if (isDialHost(host)) {
    // Everything of the host's is the host's dstack's to know: openClient asks it (Dstack.HostInfo).
    if (f.allowlist !== undefined)
      throw new UsageError(`--allowlist names a file on this machine; the allowlist of ${host} is the host's install's`, {
        hint: "leave --allowlist out: the host's dstack works on its own allowlist, under its lock",
      });
    const where = `the allowlist on ${host}`;
    const unopened = () => Promise.reject(new DstackError(`${where} is reached through the host's dstack: open the client first`));
    const allowlist: AllowlistAccess = {
      path: where,
      where,
      read: unopened,
      register: unopened,
      revoke: unopened,
      withdrawUnused: unopened,
    };
    const out: Endpoint = { host, token: undefined, source, allowlistPath: where, allowlist, image: undefined };
    if (context) out.context = context;
    const pinned = kmsSignerOf(f["kms-signer"], env("DSTACK_KMS_SIGNER"), stored?.kmsSigner, `context ${context}'s kmsSigner`);
    if (pinned) out.kmsSigner = pinned;
    return out;
  }
  let token = f.token ?? env("DSTACK_TOKEN") ?? env("DSTACK_VMM_TOKEN");
  let tokenProblem: string | undefined;
  if (token === undefined && st?.tokenPath && source === layout.stateFile) {
    try {
      token = readFileSync(st.tokenPath, "utf8").trim() || undefined;
    } catch (e) {
      tokenProblem = `cannot read the VMM token ${st.tokenPath}: ${(e as Error).message} (run with sudo, or pass --token)`;
    }
  }
  const allowlistPath = f.allowlist ?? st?.allowlistPath ?? layout.allowlistPath;
  const out: Endpoint = { host, token, source, allowlistPath, allowlist: fileAllowlist(allowlistPath), image: st?.image };
  if (context) out.context = context;
  if (tokenProblem) out.tokenProblem = tokenProblem;
  const signer = stored?.kmsSigner
    ? kmsSignerOf(f["kms-signer"], env("DSTACK_KMS_SIGNER"), stored.kmsSigner, `context ${context}'s kmsSigner`)
    : kmsSignerOf(f["kms-signer"], env("DSTACK_KMS_SIGNER"), source === layout.stateFile ? st?.kmsSigner : undefined);
  if (signer) out.kmsSigner = signer;
  if (source === layout.stateFile) {
    try {
      out.portPolicy = portPolicyFromVmmToml(readFileSync(layout.vmmConfig, "utf8"), layout.vmmConfig);
    } catch (e) {
      // Not readable (not root) or not there: the VMM checks the ports itself. Garbage in it is worth a warning.
      if (e instanceof TomlParseError)
        out.portPolicyProblem = `the VMM's port policy could not be read (${e.message}); ports are not checked before the VMM is asked`;
    }
  }
  return out;
}

/** The signer pinned by flag, else by the environment, else `recorded` (an install's kms_signer); checked to be a k256 key. */
export function kmsSignerOf(
  flag: string | undefined,
  environ: string | undefined,
  recorded: string | undefined,
  recordedFrom = "the install state",
): string | undefined {
  const [given, from] =
    flag !== undefined ? [flag, "--kms-signer"] : environ !== undefined ? [environ, "DSTACK_KMS_SIGNER"] : [recorded, recordedFrom];
  if (given === undefined) return undefined;
  const s = parseSigner(given);
  if (!s)
    throw new UsageError(`${from}: ${JSON.stringify(given)} is not a secp256k1 public key`, {
      hint: "give the KMS's k256_pubkey in hex: 0x02… / 0x03… (33 bytes) or 0x04… (65 bytes)",
    });
  return s;
}

export async function connectEndpoint(
  e: Endpoint,
  f: EndpointFlags,
  onWarning?: (m: string) => void,
  timeoutMs?: number,
  env?: Env,
): Promise<VmmClient> {
  return connectVmm({
    host: e.host,
    ...(env ? { env } : {}),
    token: e.token,
    insecureHostKey: f["insecure-host-key"] === true,
    ...(onWarning ? { onWarning } : {}),
    ...(timeoutMs ? { timeoutMs } : {}),
  });
}
