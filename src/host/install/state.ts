/**
 * The install state file <state>/dstackup-state.json
 * (Dstack-TEE/dstack: dstack/crates/dstackup/src/state.rs), written by `dstackup install`, read by `dstack` and `dstackup`.
 * Upstream's keys are kept (snake_case, same meaning) so either tool reads the
 * other's file; our extra keys are additive.
 */
import * as v from "valibot";
import { RefusedError } from "../../core/errors.ts";
import { readTextIfExists, writeAtomic } from "../../core/fsutil.ts";

const nullableString = v.nullish(v.string());

export const InstallStateSchema = v.object({
  // upstream keys
  prefix: v.string(),
  install_prefix: nullableString,
  config_dir: v.optional(v.string()),
  state_dir: v.optional(v.string()),
  cache_dir: v.optional(v.string()),
  run_dir: v.optional(v.string()),
  allowlist_path: v.optional(v.string()),
  /** `tdx` or `amd-sev-snp` (upstream's values), or ours: `simulated` for --simulate; read it with installPlatform() */
  platform: v.optional(v.string()),
  client_url: v.string(),
  client_token_path: v.optional(v.string()),
  auth_port: v.number(),
  vmm_unit: v.optional(v.string()),
  auth_unit: v.optional(v.string()),
  kms_vm_id: nullableString,
  kms_url: v.optional(v.string()),
  image: nullableString,
  kp_own_project: nullableString,
  // ours
  instance: nullableString,
  simulate: v.optional(v.boolean()),
  /** "systemd" or "detached" (simulate without systemd: pidfiles under run_dir) */
  service_manager: v.optional(v.picklist(["systemd", "detached"])),
  image_pin: nullableString,
  dashboard_port: v.optional(v.number()),
  kms_port: v.optional(v.number()),
  /** The KMS's env-key signer (0x + compressed secp256k1 key) as it reported it at install; dstack checks env keys against it. */
  kms_signer: v.optional(v.string()),
  host_api_port: v.optional(v.number()),
  cid_start: v.optional(v.number()),
  /** Symlinks to this binary that install created (removed by destroy --purge). */
  links: v.optional(v.array(v.string())),
  /** Directories that install created (destroy --purge removes them when empty). */
  created_dirs: v.optional(v.array(v.string())),
  /** sha256 of the vmm.toml the running VMM was last (re)started with. */
  vmm_config_sha256: v.optional(v.string()),
  /** Files and directories install put into place (a simulated image, bundle copies): destroy --purge removes them. */
  created_paths: v.optional(v.array(v.string())),
  /** What the purge targets held before the first install: destroy --purge keeps exactly those. */
  preexisting_entries: v.optional(v.record(v.string(), v.array(v.string()))),
  installed_at: v.optional(v.string()),
  updated_at: v.optional(v.string()),
});

export type InstallState = v.InferOutput<typeof InstallStateSchema>;

/** What the platform key says: the TEE, or `simulated` for --simulate (files written before said `tdx` there, and `simulate: true`). */
export function installPlatform(st: Pick<InstallState, "platform" | "simulate">): string | undefined {
  return st.simulate ? "simulated" : st.platform;
}

/** What the client needs, read loosely: empty strings count as absent. */
export interface ClientState {
  clientUrl?: string;
  tokenPath?: string;
  allowlistPath?: string;
  image?: string;
  kmsUrl?: string;
  kmsSigner?: string;
}

/** A state file that is there but cannot be read or is not a dstackup state. Exit 4: nothing is done on a guess. */
export class DamagedStateError extends RefusedError {
  readonly path: string;
  constructor(path: string, why: string) {
    super(`the install state ${path} is damaged: ${why}`, {
      hint: `\`dstackup destroy\` still stops the daemons; to install again, move it away (mv ${path} ${path}.bad) or pass --ignore-preflight-errors state; see what it holds with \`cat ${path}\``,
    });
    this.name = "DamagedStateError";
    this.path = path;
  }
}

/** The JSON object in the state file, undefined when there is none; throws DamagedStateError otherwise. */
function readStateObject(path: string): Record<string, unknown> | undefined {
  let text: string | undefined;
  try {
    text = readTextIfExists(path);
  } catch (e) {
    throw new DamagedStateError(path, `cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (text === undefined) return undefined;
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    throw new DamagedStateError(path, `not JSON (${(e as Error).message})`);
  }
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) throw new DamagedStateError(path, "not a JSON object");
  return obj as Record<string, unknown>;
}

/** The full state, or undefined when there is no state file; a file that is not a dstackup state throws DamagedStateError. */
export function readInstallState(path: string): InstallState | undefined {
  const obj = readStateObject(path);
  if (obj === undefined) return undefined;
  const r = v.safeParse(InstallStateSchema, obj);
  if (!r.success) {
    const why = r.issues.map((i) => `${(i.path ?? []).map((s) => String(s.key)).join(".") || "(top level)"}: ${i.message}`).join("; ");
    throw new DamagedStateError(path, why);
  }
  return r.output;
}

/**
 * The client's view of the state file, read loosely (upstream's file too): undefined when
 * there is none; empty strings count as absent; one without a client_url throws DamagedStateError.
 */
export function readClientState(path: string): ClientState | undefined {
  const o = readStateObject(path);
  if (o === undefined) return undefined;
  const s = (k: string) => (typeof o[k] === "string" && o[k] !== "" ? (o[k] as string) : undefined);
  if (s("client_url") === undefined) throw new DamagedStateError(path, "no client_url (the VMM's address)");
  const out: ClientState = {};
  const set = (key: keyof ClientState, val: string | undefined) => {
    if (val !== undefined) out[key] = val;
  };
  set("clientUrl", s("client_url"));
  set("tokenPath", s("client_token_path"));
  set("allowlistPath", s("allowlist_path"));
  set("image", s("image"));
  set("kmsUrl", s("kms_url"));
  set("kmsSigner", s("kms_signer"));
  return out;
}

/** Write the state file, unless it already holds exactly these bytes (a no-change re-run writes nothing). */
export function writeInstallState(path: string, state: InstallState): void {
  const text = `${JSON.stringify(state, null, 2)}\n`;
  if (readTextIfExists(path) !== text) writeAtomic(path, text, { mode: 0o644 });
}
