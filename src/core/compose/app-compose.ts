/**
 * The app-compose manifest (Dstack-TEE/dstack: dstack/dstack-types/src/lib.rs `AppCompose`): what a CVM runs, and
 * the bytes whose sha256 is the compose hash the KMS authorizes.
 *
 * buildAppCompose: manifest → key-sorted compact JSON (the exact `compose_file`
 * text), its sha256 (compose hash) and the app id (first 40 hex chars).
 * Parsing one back is app-compose-parse.ts.
 *
 * Deviations from upstream are listed in docs/dstack.md, "The app-compose manifest".
 */
import { UsageError } from "../errors.ts";
import { sha256Hex } from "../hash.ts";
import { canonicalJson } from "./canonical-json.ts";
import { checkAppName, checkEnvName } from "./names.ts";

export interface VerityVolume {
  source: string;
  verity_root: string;
  target: string;
}

/** The fields of an app-compose manifest (upstream dstack/dstack-types/src/lib.rs). Unknown keys are kept. */
export interface AppCompose {
  manifest_version: number | string;
  name: string;
  runner: string;
  docker_compose_file?: string | null;
  bash_script?: string;
  features?: string[];
  snapshotter?: string | null;
  init_script?: string | string[] | null;
  pre_launch_script?: string;
  public_logs?: boolean;
  public_sysinfo?: boolean;
  public_tcbinfo?: boolean;
  kms_enabled?: boolean;
  gateway_enabled?: boolean;
  tproxy_enabled?: boolean;
  local_key_provider_enabled?: boolean;
  key_provider?: "none" | "kms" | "local" | "tpm" | null;
  key_provider_id?: string;
  allowed_envs?: string[];
  no_instance_id?: boolean;
  secure_time?: boolean;
  storage_fs?: string | null;
  swap_size?: number | string;
  event_log_version?: number;
  verity_volumes?: VerityVolume[];
  [extra: string]: unknown;
}

export interface BuildAppComposeOptions {
  /** App name (also the VM name). */
  name: string;
  /** The docker-compose YAML text, embedded verbatim. */
  dockerCompose: string;
  /** Ask the KMS for keys (default true; false = `--no-kms`). */
  kms?: boolean;
  /** Names of the encrypted env vars the guest may accept (deduplicated, order kept). */
  allowedEnvs?: string[];
  /** `docker-compose` (default) or `nerdctl-compose` (then manifest_version is "3"). */
  runner?: "docker-compose" | "nerdctl-compose";
  gateway?: boolean;
  publicLogs?: boolean;
  publicSysinfo?: boolean;
  localKeyProvider?: boolean;
  noInstanceId?: boolean;
  secureTime?: boolean;
  snapshotter?: "overlayfs" | "stargz";
  preLaunchScript?: string;
  /** Further manifest keys, merged last (e.g. `public_tcbinfo`, `storage_fs`). */
  extra?: Record<string, unknown>;
}

export interface BuiltAppCompose {
  manifest: AppCompose;
  /** The exact text to send as `compose_file` (key-sorted compact JSON). */
  composeFile: string;
  /** sha256 hex (64, lowercase) of composeFile's UTF-8 bytes. */
  composeHash: string;
  /** First 40 hex chars of composeHash. */
  appId: string;
}

/** Build the manifest object with our defaults (Dstack-TEE/dstack: dstack/crates/dstack-cli-core/src/compose.rs, plus allowed_envs). */
export function appComposeManifest(opts: BuildAppComposeOptions): AppCompose {
  checkAppName(opts.name);
  const runner = opts.runner ?? "docker-compose";
  if (runner !== "docker-compose" && runner !== "nerdctl-compose") {
    throw new UsageError(`invalid runner ${JSON.stringify(runner)}: use docker-compose or nerdctl-compose`);
  }
  if (opts.snapshotter !== undefined && runner !== "nerdctl-compose") {
    throw new UsageError("a snapshotter needs the nerdctl-compose runner");
  }
  const envs: string[] = [];
  for (const k of opts.allowedEnvs ?? []) {
    checkEnvName(k);
    if (!envs.includes(k)) envs.push(k);
  }
  const m: AppCompose = {
    manifest_version: runner === "nerdctl-compose" ? "3" : 2,
    name: opts.name,
    runner,
    docker_compose_file: opts.dockerCompose,
    kms_enabled: opts.kms ?? true,
    gateway_enabled: opts.gateway ?? false,
    local_key_provider_enabled: opts.localKeyProvider ?? false,
    public_logs: opts.publicLogs ?? true,
    public_sysinfo: opts.publicSysinfo ?? true,
    no_instance_id: opts.noInstanceId ?? false,
    secure_time: opts.secureTime ?? false,
    allowed_envs: envs,
  };
  if (opts.snapshotter !== undefined) m.snapshotter = opts.snapshotter;
  if (opts.preLaunchScript !== undefined) m.pre_launch_script = opts.preLaunchScript;
  if (opts.extra) Object.assign(m, opts.extra);
  return m;
}

/** Build the manifest, its exact `compose_file` text, the compose hash and the app id. */
export function buildAppCompose(opts: BuildAppComposeOptions): BuiltAppCompose {
  return serializeAppCompose(appComposeManifest(opts));
}

/** Serialise a manifest (key-sorted compact JSON) and hash it. */
export function serializeAppCompose(manifest: AppCompose): BuiltAppCompose {
  const composeFile = canonicalJson(manifest);
  const composeHash = composeHashOf(composeFile);
  return { manifest, composeFile, composeHash, appId: appIdOf(composeHash) };
}

/** sha256 hex of the UTF-8 bytes of `text` (the compose hash of a compose_file). */
export function composeHashOf(text: string): string {
  return sha256Hex(text);
}

/** The app id the VMM derives from a compose hash: its first 40 hex characters. */
export function appIdOf(composeHash: string): string {
  const h = composeHash.trim().replace(/^0x/i, "").toLowerCase();
  if (!/^[0-9a-f]{40,}$/.test(h)) throw new UsageError(`not a compose hash: ${JSON.stringify(composeHash)}`);
  return h.slice(0, 40);
}
