/**
 * The install layout (Dstack-TEE/dstack: dstack/crates/dstack-cli-core/src/layout.rs): system paths by default,
 * everything relocated under `--prefix P`. Pure path arithmetic, no I/O.
 */
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import { UsageError } from "./errors.ts";
import { fnv1a32 } from "./hash.ts";
import type { Env } from "./io.ts";

export interface Layout {
  /** The --prefix given, or undefined for the system layout. */
  prefix: string | undefined;
  binDir: string;
  libexecDir: string;
  shareDir: string;
  configDir: string;
  stateDir: string;
  cacheDir: string;
  runDir: string;
  /** <state>/dstackup-state.json */
  stateFile: string;
  /** <config>/auth-allowlist.json */
  allowlistPath: string;
  /** <config>/vmm.toml */
  vmmConfig: string;
  /** <config>/kms.toml */
  kmsConfig: string;
  /** <config>/vmm-auth-token (0600) */
  tokenPath: string;
  /** <state>/images */
  imageDir: string;
  /** <state>/vm: the VMM's run_path */
  vmDir: string;
  /** <share>/examples/hello-nginx/docker-compose.yaml */
  exampleCompose: string;
  /** systemd unit instance suffix: --instance, else derived from --prefix, else none */
  instance: string | undefined;
  /** dstack-vmm[-inst] (no .service) */
  vmmUnit: string;
  /** dstack-auth[-inst] (no .service) */
  authUnit: string;
}

export interface LayoutOptions {
  prefix?: string | undefined;
  instance?: string | undefined;
  binDir?: string | undefined;
  libexecDir?: string | undefined;
  shareDir?: string | undefined;
  imageDir?: string | undefined;
}

const INSTANCE_RE = /^[A-Za-z0-9._-]+$/;

/** Absolute, not "/", no "." or ".." segments. */
export function checkDir(label: string, p: string): string {
  if (!isAbsolute(p)) throw new UsageError(`${label} must be an absolute path: ${JSON.stringify(p)}`);
  const trimmed = p.length > 1 ? p.replace(/\/+$/, "") : p;
  if (trimmed === "/" || trimmed === "") throw new UsageError(`${label} must not be /`);
  if (trimmed.split("/").some((seg) => seg === "." || seg === "..")) {
    throw new UsageError(`${label} must not contain . or .. segments: ${JSON.stringify(p)}`);
  }
  return trimmed;
}

/**
 * The client's own configuration directory — secrets, contexts, dev-environment SSH config —
 * never dstackai's `~/.dstack`: `$XDG_CONFIG_HOME/dstack-tee`, else `~/.config/dstack-tee`.
 */
export function userConfigDir(env: Env): string {
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME !== "" ? env.XDG_CONFIG_HOME : join(env.HOME || homedir(), ".config");
  return join(base, "dstack-tee");
}

/** The instance suffix upstream derives from a prefix: `<slug>-<fnv1a32(prefix)>`. */
export function instanceForPrefix(prefix: string): string {
  const last = prefix.replace(/\/+$/, "").split("/").pop() ?? "";
  const slug =
    last
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "") || "prefix";
  return `${slug}-${fnv1a32(prefix).toString(16).padStart(8, "0")}`;
}

export function resolveLayout(opts: LayoutOptions = {}): Layout {
  const prefix = opts.prefix === undefined || opts.prefix === "" ? undefined : checkDir("--prefix", opts.prefix);
  const p = (sys: string, rel: string) => (prefix ? join(prefix, rel) : sys);
  const binDir = checkDir("--bin-dir", opts.binDir ?? p("/usr/local/bin", "bin"));
  const libexecDir = checkDir("--libexec-dir", opts.libexecDir ?? p("/usr/local/libexec/dstack", "libexec/dstack"));
  const shareDir = checkDir("--share-dir", opts.shareDir ?? p("/usr/local/share/dstack", "share/dstack"));
  const configDir = p("/etc/dstack", "etc/dstack");
  const stateDir = p("/var/lib/dstack", "var/lib/dstack");
  const cacheDir = p("/var/cache/dstack", "var/cache/dstack");
  const runDir = p("/run/dstack", "run/dstack");
  let instance = opts.instance;
  if (instance !== undefined && !INSTANCE_RE.test(instance)) {
    throw new UsageError(`--instance ${JSON.stringify(instance)}: use letters, digits, '.', '_' and '-' only`);
  }
  if (instance === undefined && opts.prefix) instance = instanceForPrefix(opts.prefix);
  const suffix = instance ? `-${instance}` : "";
  return {
    prefix,
    binDir,
    libexecDir,
    shareDir,
    configDir,
    stateDir,
    cacheDir,
    runDir,
    stateFile: join(stateDir, "dstackup-state.json"),
    allowlistPath: join(configDir, "auth-allowlist.json"),
    vmmConfig: join(configDir, "vmm.toml"),
    kmsConfig: join(configDir, "kms.toml"),
    tokenPath: join(configDir, "vmm-auth-token"),
    imageDir: checkDir("--image-path", opts.imageDir ?? join(stateDir, "images")),
    vmDir: join(stateDir, "vm"),
    exampleCompose: join(shareDir, "examples", "hello-nginx", "docker-compose.yaml"),
    instance,
    vmmUnit: `dstack-vmm${suffix}`,
    authUnit: `dstack-auth${suffix}`,
  };
}
