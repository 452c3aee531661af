/**
 * Validation of an app-compose JSON text the way the VMM and the guest parse
 * it (the VMM simulator rejects a bad `compose_file` with it).
 */
import * as v from "valibot";
import { UsageError } from "../errors.ts";
import type { AppCompose } from "./app-compose.ts";
import { ENV_NAME_RE } from "./names.ts";

/** A `compose_file` the VMM or guest would reject. Exit 2 in the client; 400 in the simulator. */
export class InvalidAppComposeError extends UsageError {
  /** What is wrong, without the "invalid app compose…" prefix (the VMM's cause after its own context). */
  readonly issues: string[];
  constructor(message: string, issues: string[] = [message]) {
    super(message);
    this.name = "InvalidAppComposeError";
    this.issues = issues;
  }
}

const bool = () => v.optional(v.boolean());
const strList = () => v.optional(v.array(v.string()));
const hex64 = v.pipe(v.string(), v.regex(/^(0x)?[0-9a-fA-F]{64}$/, "must be 64 hex characters"));

const ManifestVersion = v.union(
  [
    v.picklist([1, 2], "a number must be 1 or 2"),
    v.pipe(v.string(), v.regex(/^[1-9][0-9]*$/, 'a string must be a canonical positive integer such as "3"')),
  ],
  'must be 1, 2 or a canonical positive integer string such as "3"',
);

const VerityVolumeSchema = v.object({
  source: v.pipe(v.string(), v.minLength(1, "must not be empty")),
  verity_root: hex64,
  target: v.pipe(v.string(), v.startsWith("/", "must be an absolute path")),
});

const AppComposeSchema = v.looseObject({
  manifest_version: ManifestVersion,
  name: v.string("must be a string"),
  runner: v.string("must be a string"),
  // upstream's Option<String> and friends (dstack-types AppCompose): null is none
  docker_compose_file: v.nullish(v.string()),
  bash_script: v.optional(v.string()),
  features: strList(),
  snapshotter: v.nullish(v.picklist(["overlayfs", "stargz"], "must be overlayfs or stargz")),
  init_script: v.nullish(v.union([v.string(), v.pipe(v.array(v.string()), v.maxLength(5, "at most 5 scripts"))])),
  pre_launch_script: v.optional(v.string()),
  public_logs: bool(),
  public_sysinfo: bool(),
  public_tcbinfo: bool(),
  kms_enabled: bool(),
  gateway_enabled: bool(),
  tproxy_enabled: bool(),
  local_key_provider_enabled: bool(),
  key_provider: v.nullish(v.picklist(["none", "kms", "local", "tpm"], "invalid key_provider: must be none, kms, local or tpm")),
  key_provider_id: v.optional(v.string()),
  allowed_envs: strList(),
  no_instance_id: bool(),
  secure_time: bool(),
  storage_fs: v.nullish(v.picklist(["zfs", "ext4"], "must be zfs or ext4")),
  swap_size: v.optional(
    v.union([v.pipe(v.number(), v.integer(), v.minValue(0)), v.string()], 'must be a byte count or a size string such as "1G"'),
  ),
  event_log_version: v.optional(v.picklist([1, 2], "must be 1 or 2")),
  verity_volumes: v.optional(v.array(VerityVolumeSchema, "must be an array")),
  port_policy: v.optional(v.record(v.string(), v.unknown())),
  requirements: v.nullish(v.record(v.string(), v.unknown())),
});

function issuePath(issue: v.BaseIssue<unknown>): string {
  const keys = (issue.path ?? []).map((p) => String(p.key));
  return keys.length ? keys.join(".") : "(top level)";
}

/**
 * Parse and validate an app-compose JSON text as the VMM does on CreateVm
 * (Dstack-TEE/dstack: dstack/vmm/src/main_service.rs) and the guest's AppCompose parser
 * (dstack/dstack-types/src/lib.rs):
 * valid JSON object, `manifest_version`, `name`, `runner` present, known
 * fields typed, `key_provider` and `verity_volumes` well-formed. Unknown keys
 * are kept (they are still part of the hash). Throws InvalidAppComposeError.
 */
export function parseAppCompose(text: string): AppCompose {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new InvalidAppComposeError(`invalid app compose JSON: ${why}`, [why]);
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new InvalidAppComposeError("invalid app compose JSON: the top level must be an object", ["the top level must be an object"]);
  }
  const r = v.safeParse(AppComposeSchema, raw);
  if (!r.success) {
    const issues = r.issues.map((i) => {
      const path = issuePath(i);
      if (path === "key_provider") return "invalid key_provider: must be none, kms, local or tpm";
      const what = i.input === undefined && i.kind === "schema" ? "missing (required)" : i.message;
      if (path.startsWith("verity_volumes")) return `invalid verity_volumes in app-compose: ${path}: ${what}`;
      return `${path}: ${i.input === undefined && i.kind === "schema" ? "missing (required)" : i.message}`;
    });
    throw new InvalidAppComposeError(`invalid app compose: ${issues.join("; ")}`, issues);
  }
  return r.output as AppCompose;
}

/**
 * Problems the guest would hit at boot with a manifest that parses
 * (upstream os/common/rootfs/app-compose.sh and dstack/dstack-util/src/parse_env_file.rs).
 * Empty = fine.
 */
export function appComposeBootProblems(m: AppCompose): string[] {
  const out: string[] = [];
  if (m.runner === "docker-compose" || m.runner === "nerdctl-compose") {
    if (typeof m.docker_compose_file !== "string" || m.docker_compose_file.trim() === "") {
      out.push(`runner ${m.runner} needs a docker_compose_file`);
    }
    if (m.runner === "docker-compose" && m.snapshotter !== undefined)
      out.push("snapshotter is only supported with the nerdctl-compose runner");
  } else if (m.runner === "bash") {
    if (typeof m.bash_script !== "string") out.push("runner bash needs a bash_script");
  } else {
    out.push(`unknown runner ${JSON.stringify(m.runner)} (docker-compose, nerdctl-compose or bash)`);
  }
  for (const k of m.allowed_envs ?? []) {
    if (!ENV_NAME_RE.test(k)) out.push(`allowed_envs: ${JSON.stringify(k)} is not a valid env name`);
  }
  return out;
}
