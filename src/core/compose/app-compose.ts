/**
 * The app-compose manifest (reference/kms-auth.md §4): what a CVM runs, and
 * the bytes whose sha256 is the compose hash the KMS authorizes.
 *
 * - buildAppCompose: manifest → key-sorted compact JSON (the exact `compose_file`
 *   text), its sha256 (compose hash) and the app id (first 40 hex chars).
 * - composeFromImage: a deterministic docker-compose YAML for `dstack run IMAGE`.
 * - parseAppCompose: validates an app-compose JSON text the way the VMM and the
 *   guest parse it (the VMM simulator rejects a bad `compose_file` with it).
 * - validateDockerCompose: checks a user's docker-compose file (parsed only to
 *   validate; it is embedded verbatim, never re-serialised).
 *
 * Deviations from upstream are listed in README.md, "App-compose manifest".
 */
import * as v from "valibot";
import { UsageError } from "../errors.ts";

// ---- the manifest ---------------------------------------------------------------

export interface VerityVolume {
  source: string;
  verity_root: string;
  target: string;
}

/** The fields of an app-compose manifest (kms-auth.md §4.2). Unknown keys are kept. */
export interface AppCompose {
  manifest_version: number | string;
  name: string;
  runner: string;
  docker_compose_file?: string;
  bash_script?: string;
  features?: string[];
  snapshotter?: string;
  init_script?: string | string[];
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
  storage_fs?: string;
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

/** VMM rule for VM names (vmm.md §7.1); the manifest name is the VM name. */
const NAME_RE = /^[A-Za-z0-9\-_. @~!$^()]+$/;
/** Env var names the guest accepts (kms-auth.md §6.3). */
export const ENV_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Throw a UsageError unless `name` is a valid app/VM name. */
export function checkAppName(name: string, flag = "--name"): void {
  if (!NAME_RE.test(name)) {
    throw new UsageError(
      `invalid ${flag} ${JSON.stringify(name)}: a name is 1 or more of the characters A-Z a-z 0-9 and - _ . space @ ~ ! $ ^ ( )`,
    );
  }
}

/** Throw a UsageError unless `key` is an env var name the guest accepts. */
export function checkEnvName(key: string, flag = "--env"): void {
  if (!ENV_NAME_RE.test(key) || key.length > 255) {
    throw new UsageError(`invalid ${flag} name ${JSON.stringify(key)}: env names match [A-Za-z_][A-Za-z0-9_]* (at most 255 characters)`);
  }
}

/** Build the manifest object with our defaults (kms-auth.md §4.1, plus allowed_envs). */
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

/**
 * Deterministic JSON: object keys sorted by UTF-16 code units (JS's default
 * sort, as @phala/dstack-sdk's getComposeHash does; see sortedKeys for
 * numeric keys), no whitespace, `undefined` members dropped, strings escaped
 * as JSON.stringify does (non-ASCII raw). Byte-identical to the SDK's form.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "number":
      return Number.isFinite(value) ? JSON.stringify(value) : "null";
    case "object": {
      if (Array.isArray(value)) {
        return `[${value.map((x) => (x === undefined || typeof x === "function" ? "null" : canonicalJson(x))).join(",")}]`;
      }
      const obj = value as Record<string, unknown>;
      const parts: string[] = [];
      for (const k of sortedKeys(obj)) {
        const x = obj[k];
        if (x === undefined || typeof x === "function" || typeof x === "symbol") continue;
        parts.push(`${JSON.stringify(k)}:${canonicalJson(x)}`);
      }
      return `{${parts.join(",")}}`;
    }
    default:
      throw new TypeError(`cannot serialise a ${typeof value} in an app-compose manifest`);
  }
}

const ARRAY_INDEX = /^(?:0|[1-9][0-9]*)$/;

/**
 * Keys in the order JSON.stringify emits a key-sorted object rebuilt in JS,
 * as the SDK does: array-index keys ("0", "10") first in numeric order (JS
 * objects always put them first), then the rest in UTF-16 code unit order.
 */
function sortedKeys(obj: Record<string, unknown>): string[] {
  const keys = Object.keys(obj).sort();
  const isIndex = (k: string) => ARRAY_INDEX.test(k) && Number(k) < 2 ** 32 - 1;
  const idx = keys.filter(isIndex).sort((a, b) => Number(a) - Number(b));
  return idx.length ? [...idx, ...keys.filter((k) => !isIndex(k))] : keys;
}

/** sha256 hex of the UTF-8 bytes of `text` (the compose hash of a compose_file). */
export function composeHashOf(text: string): string {
  return new Bun.CryptoHasher("sha256").update(text).digest("hex");
}

/** The app id the VMM derives from a compose hash: its first 40 hex characters. */
export function appIdOf(composeHash: string): string {
  const h = composeHash.trim().replace(/^0x/i, "").toLowerCase();
  if (!/^[0-9a-f]{40,}$/.test(h)) throw new UsageError(`not a compose hash: ${JSON.stringify(composeHash)}`);
  return h.slice(0, 40);
}

// ---- docker-compose for a single image ------------------------------------------

export interface ImagePort {
  /** Port inside the CVM (published there to the container's same port). */
  vmPort: number;
  protocol?: "tcp" | "udp";
}

export interface ComposeFromImageOptions {
  /** Container image reference, e.g. `nginx`, `ghcr.io/org/app:1.2@sha256:…`. */
  image: string;
  /** Ports to publish inside the CVM (container port = VM port). */
  ports?: ImagePort[];
  /** Env var NAMES; values arrive as encrypted env and are interpolated as `${NAME}`. */
  env?: string[];
  /** Command (argv) overriding the image's default command. */
  command?: string[];
  /** Service name (default `app`). */
  service?: string;
  /** Restart policy (default `unless-stopped`). */
  restart?: "no" | "always" | "on-failure" | "unless-stopped";
}

const IMAGE_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const IMAGE_RE = new RegExp(
  `^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?/)?` +
    `${IMAGE_COMPONENT}(?:/${IMAGE_COMPONENT})*` +
    `(?::[\\w][\\w.-]{0,127})?` +
    `(?:@[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,})?$`,
);

/** Throw a UsageError unless `image` is a container image reference. */
export function checkImageRef(image: string): void {
  if (image.length > 512 || !IMAGE_RE.test(image)) {
    throw new UsageError(
      `invalid image ${JSON.stringify(image)}: expected [REGISTRY[:PORT]/]NAME[:TAG][@DIGEST] with a lowercase NAME, e.g. nginx, nginx:1.27, ghcr.io/org/app@sha256:<64 hex>`,
    );
  }
}

const SERVICE_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/**
 * A YAML double-quoted scalar. Every character YAML would not take raw is
 * escaped; `$` is doubled when `interpolate` is false (compose interpolates `$`).
 */
export function yamlQuote(s: string, opts: { compose?: boolean } = {}): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i]!;
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out += ch + s[i + 1]!;
        i++;
        continue;
      }
      throw new UsageError(`cannot put a lone UTF-16 surrogate in a compose file: ${JSON.stringify(s)}`);
    }
    if (c >= 0xdc00 && c <= 0xdfff) throw new UsageError(`cannot put a lone UTF-16 surrogate in a compose file: ${JSON.stringify(s)}`);
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "$" && opts.compose) out += "$$";
    else if (c === 0x0a) out += "\\n";
    else if (c === 0x09) out += "\\t";
    else if (c === 0x0d) out += "\\r";
    else if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029 || c === 0xfeff || c === 0xfffe || c === 0xffff) {
      out += `\\u${c.toString(16).padStart(4, "0")}`;
    } else out += ch;
  }
  return `${out}"`;
}

/**
 * A docker-compose YAML text for one image. Deterministic: the same options
 * give the same bytes (and so the same compose hash). Every scalar is quoted.
 */
export function composeFromImage(opts: ComposeFromImageOptions): string {
  checkImageRef(opts.image);
  const service = opts.service ?? "app";
  if (!SERVICE_RE.test(service)) throw new UsageError(`invalid service name ${JSON.stringify(service)}`);
  const lines = ["services:", `  ${service}:`, `    image: ${yamlQuote(opts.image)}`];
  lines.push(`    restart: ${yamlQuote(opts.restart ?? "unless-stopped")}`);
  const seen = new Set<string>();
  const ports: string[] = [];
  for (const p of opts.ports ?? []) {
    if (!Number.isInteger(p.vmPort) || p.vmPort < 1 || p.vmPort > 65535) {
      throw new UsageError(`invalid VM port ${p.vmPort}: a port is 1-65535`);
    }
    const proto = p.protocol ?? "tcp";
    const s = `${p.vmPort}:${p.vmPort}${proto === "udp" ? "/udp" : ""}`;
    if (!seen.has(s)) {
      seen.add(s);
      ports.push(s);
    }
  }
  if (ports.length) {
    lines.push("    ports:");
    for (const s of ports) lines.push(`      - ${yamlQuote(s)}`);
  }
  const env: string[] = [];
  for (const k of opts.env ?? []) {
    checkEnvName(k);
    if (!env.includes(k)) env.push(k);
  }
  if (env.length) {
    lines.push("    environment:");
    for (const k of env) lines.push(`      ${k}: ${yamlQuote(`\${${k}}`)}`);
  }
  if (opts.command?.length) {
    lines.push("    command:");
    for (const a of opts.command) lines.push(`      - ${yamlQuote(a, { compose: true })}`);
  }
  return `${lines.join("\n")}\n`;
}

// ---- validation of an app-compose JSON text (VMM + guest rules) ------------------

/** A `compose_file` the VMM or guest would reject. Exit 2 in the client; 400 in the simulator. */
export class InvalidAppComposeError extends UsageError {
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
  docker_compose_file: v.optional(v.string()),
  bash_script: v.optional(v.string()),
  features: strList(),
  snapshotter: v.optional(v.picklist(["overlayfs", "stargz"], "must be overlayfs or stargz")),
  init_script: v.optional(v.union([v.string(), v.pipe(v.array(v.string()), v.maxLength(5, "at most 5 scripts"))])),
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
  storage_fs: v.optional(v.picklist(["zfs", "ext4"], "must be zfs or ext4")),
  swap_size: v.optional(
    v.union([v.pipe(v.number(), v.integer(), v.minValue(0)), v.string()], 'must be a byte count or a size string such as "1G"'),
  ),
  event_log_version: v.optional(v.picklist([1, 2], "must be 1 or 2")),
  verity_volumes: v.optional(v.array(VerityVolumeSchema, "must be an array")),
  port_policy: v.optional(v.record(v.string(), v.unknown())),
  requirements: v.optional(v.record(v.string(), v.unknown())),
});

function issuePath(issue: v.BaseIssue<unknown>): string {
  const keys = (issue.path ?? []).map((p) => String(p.key));
  return keys.length ? keys.join(".") : "(top level)";
}

/**
 * Parse and validate an app-compose JSON text as the VMM does on CreateVm
 * (vmm.md §7.4) and the guest's AppCompose parser (kms-auth.md §4.2):
 * valid JSON object, `manifest_version`, `name`, `runner` present, known
 * fields typed, `key_provider` and `verity_volumes` well-formed. Unknown keys
 * are kept (they are still part of the hash). Throws InvalidAppComposeError.
 */
export function parseAppCompose(text: string): AppCompose {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InvalidAppComposeError(`invalid app compose JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new InvalidAppComposeError("invalid app compose JSON: the top level must be an object");
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
 * (app-compose.sh and the env rules of kms-auth.md §6.3). Empty = fine.
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

// ---- validation of a docker-compose YAML ----------------------------------------

export interface DockerComposeInfo {
  /** Service names, in file order. */
  services: string[];
}

/** A docker-compose file that cannot run in a CVM. Exit 2. */
export class InvalidDockerComposeError extends UsageError {
  readonly issues: string[];
  constructor(label: string, issues: string[]) {
    super(`${label} is not a usable docker-compose file:\n  ${issues.join("\n  ")}`);
    this.name = "InvalidDockerComposeError";
    this.issues = issues;
  }
}

/**
 * Check a docker-compose YAML (parsed only to validate; the text is embedded
 * verbatim): one YAML document, a mapping with a non-empty `services` mapping,
 * each service a mapping with an `image:` and no `build:` (a CVM cannot build).
 * Messages carry line numbers. `label` names the file in messages.
 */
export async function validateDockerCompose(text: string, label = "the compose file"): Promise<DockerComposeInfo> {
  const { parseAllDocuments, LineCounter, isMap, isScalar } = await import("yaml");
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const issues: string[] = [];
  const at = (offset: number | undefined) => {
    if (offset === undefined) return "";
    const p = lc.linePos(offset);
    return `line ${p.line}, column ${p.col}: `;
  };
  const list = Array.isArray(docs) ? docs : [docs];
  if (list.length === 0) throw new InvalidDockerComposeError(label, ["the file is empty; it needs a `services:` mapping"]);
  if (list.length > 1) {
    throw new InvalidDockerComposeError(label, [`${at(list[1]!.range[0])}more than one YAML document (---); use one`]);
  }
  const doc = list[0]!;
  for (const e of doc.errors) issues.push(`${at(e.pos[0])}${e.message.split("\n")[0]}`);
  if (issues.length) throw new InvalidDockerComposeError(label, issues);
  const root = doc.contents;
  if (!isMap(root)) {
    throw new InvalidDockerComposeError(label, [`${at(root?.range?.[0])}the top level must be a mapping with a \`services:\` key`]);
  }
  const servicesPair = root.items.find((p) => isScalar(p.key) && p.key.value === "services");
  if (!servicesPair) throw new InvalidDockerComposeError(label, ["no `services:` key at the top level"]);
  const services = servicesPair.value;
  const keyPos = isScalar(servicesPair.key) ? servicesPair.key.range?.[0] : undefined;
  if (!isMap(services) || services.items.length === 0) {
    throw new InvalidDockerComposeError(label, [`${at(keyPos)}\`services:\` must be a mapping of at least one service`]);
  }
  const names: string[] = [];
  for (const item of services.items) {
    const name = isScalar(item.key) ? String(item.key.value) : String(item.key);
    const namePos = isScalar(item.key) ? item.key.range?.[0] : undefined;
    names.push(name);
    const svc = item.value;
    if (!isMap(svc)) {
      issues.push(`${at(namePos)}service "${name}" must be a mapping`);
      continue;
    }
    const build = svc.items.find((p) => isScalar(p.key) && p.key.value === "build");
    if (build) {
      const pos = isScalar(build.key) ? build.key.range?.[0] : namePos;
      issues.push(`${at(pos)}service "${name}" uses \`build:\`; a CVM cannot build images: build and push it, then use \`image:\``);
    }
    const image = svc.items.find((p) => isScalar(p.key) && p.key.value === "image");
    if (!image && !build) issues.push(`${at(namePos)}service "${name}" has no \`image:\``);
    else if (image && !(isScalar(image.value) && typeof image.value.value === "string" && image.value.value.trim() !== "")) {
      const pos = isScalar(image.key) ? image.key.range?.[0] : namePos;
      issues.push(`${at(pos)}service "${name}": \`image:\` must be a non-empty string`);
    }
  }
  if (issues.length) throw new InvalidDockerComposeError(label, issues);
  return { services: names };
}

// ---- variables a docker-compose file interpolates -------------------------------

export interface ComposeVariable {
  name: string;
  /** `${X:-d}`, `${X-d}`, `${X:+v}`, `${X+v}`: the file works without it. */
  optional: boolean;
}

const VAR_RE = /\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+?])[^}]*)?\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/** Variables referenced in one string, compose-style (`$$` is a literal `$`). */
export function variablesIn(s: string): ComposeVariable[] {
  const out: ComposeVariable[] = [];
  for (const m of s.matchAll(VAR_RE)) {
    if (m[0] === "$$") continue;
    const name = m[1] ?? m[3]!;
    const op = m[2];
    out.push({ name, optional: op !== undefined && !op.endsWith("?") });
  }
  return out;
}

/**
 * The variables a docker-compose file interpolates in its values (what
 * `docker compose` in the CVM fills from the decrypted env). Each name once,
 * in file order; a name is optional only if every use has a default.
 */
export async function composeVariables(text: string): Promise<ComposeVariable[]> {
  const { parseDocument, visit, isScalar } = await import("yaml");
  const doc = parseDocument(text);
  const seen = new Map<string, ComposeVariable>();
  visit(doc, {
    Scalar(key, node) {
      if (key === "key" || !isScalar(node) || typeof node.value !== "string") return;
      for (const v of variablesIn(node.value)) {
        const prev = seen.get(v.name);
        if (!prev) seen.set(v.name, { ...v });
        else prev.optional &&= v.optional;
      }
    },
  });
  return [...seen.values()];
}
