/**
 * `dstackup install`, phase 1: work out everything (paths, ports, CIDs, image,
 * token, rendered files, services) and run every preflight check — with no
 * side effect on the host. Phase 2 (install-apply.ts) carries the plan out.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { parseAllowlist } from "../../auth/allowlist.ts";
import { type DstackError, UsageError } from "../../core/errors.ts";
import { MIN_IMAGE_VERSION, versionAtLeast } from "../../core/images/image-version.ts";
import { type Layout, resolveLayout } from "../../core/layout.ts";
import { clientUrlFor, type HostConfig, kmsUrlFor, type Platform } from "../../core/render/host-config.ts";
import { renderKmsToml } from "../../core/render/kms-toml.ts";
import { renderAuthUnit, renderVmmUnit } from "../../core/render/units.ts";
import { renderVmmToml } from "../../core/render/vmm-toml.ts";
import { DEFAULT_PORT_POLICY } from "../../core/specs/ports.ts";
import { pickFreePort } from "../free-port.ts";
import { type ImageEntry, readImage, resolveImage } from "../images/images.ts";
import { which } from "../runner.ts";
import { type ManagerKind, type ServiceSpec, Services } from "../services/services.ts";
import { systemdRunning } from "../services/systemd.ts";
import { buildToolPath, coreDir } from "./build-source.ts";
import { verifyAndExtractBundle } from "./bundle.ts";
import { scanCoexistence } from "./coexist.ts";
import { detectPlatform, parsePlatformFlag } from "./platform.ts";
import {
  applyIgnores,
  type CheckResult,
  checkCids,
  checkExecutable,
  checkHostApi,
  checkKvm,
  checkPlatform,
  checkPorts,
  checkPrefixWritable,
  checkRoot,
  type PortEntry,
  parseIgnoreList,
} from "./preflight.ts";
import { type InstallState, readInstallState } from "./state.ts";

export interface InstallFlags {
  prefix?: string | undefined;
  instance?: string | undefined;
  binDir?: string | undefined;
  libexecDir?: string | undefined;
  shareDir?: string | undefined;
  imagePath?: string | undefined;
  image?: string | undefined;
  platform: string;
  simulate: boolean;
  vmmBin?: string | undefined;
  supervisorBin?: string | undefined;
  qemu: string;
  dashboardPort: number;
  authPort: number;
  hostApiPort: number;
  cidStart?: number | undefined;
  kmsPort?: number | undefined;
  kmsImage: string;
  noKms: boolean;
  allowUnpinnedImage: boolean;
  useExistingKeyProvider?: string | undefined;
  keyProviderPort: number;
  keyProviderSrc?: string | undefined;
  serviceManager: "auto" | ManagerKind;
  ignorePreflightErrors?: string | undefined;
  devRoot?: string | undefined;
  cpuinfo?: string | undefined;
  /** An offline bundle (dstackup bundle create): binaries, image, key provider. */
  bundle?: string | undefined;
  /** Build dstack-vmm and supervisor from source (git + cargo, as the sudo user). */
  buildFromSource?: { source?: string | undefined; repo: string; ref: string } | undefined;
}

export interface PlannedFile {
  path: string;
  content: string;
  mode: number;
  /** Replace the mode even if the file exists (token). */
  forceMode?: boolean;
  /** Never print the content (token). */
  secret?: boolean;
  before: string | undefined;
}

export interface KeyProviderPlan {
  kind: "none" | "existing" | "own";
  address: string;
  port: number;
  src?: string;
  project?: string;
}

export interface InstallPlan {
  flags: InstallFlags;
  layout: Layout;
  prev: InstallState | undefined;
  cfg: HostConfig;
  checks: CheckResult[];
  image: ImageEntry | undefined;
  /** A simulated image to generate (simulate mode with none present). */
  createImage: string | undefined;
  pin: string | undefined;
  files: PlannedFile[];
  manager: Services;
  auth: ServiceSpec;
  vmm: ServiceSpec;
  /** Links in libexec to this binary (simulate / our own dstack-auth): [link, target]. */
  links: [string, string][];
  keyProvider: KeyProviderPlan;
  restartVmm: boolean;
  restartAuth: boolean;
  /** From --bundle: [source in the verified unpacked bundle, destination in the layout] */
  bundleCopies: [string, string][];
  /** The temp dir the bundle was unpacked into (removed by the caller). */
  bundleDir: string | undefined;
}

const DEFAULT_SIM_IMAGE = "dstack-sim-0.5.5";

function readIf(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** How to run this same program under another tool name. */
export function selfCommand(tool: string, libexecDir: string): { argv0: string[]; link?: [string, string] } {
  const exe = realpathSync(process.execPath);
  if (/^bun(-debug)?$/.test(basename(exe))) {
    // running from source: bun src/main.ts <tool>
    const main = realpathSync(join(import.meta.dir, "..", "..", "main.ts"));
    return { argv0: [exe, main, tool] };
  }
  const link = join(libexecDir, tool);
  return { argv0: [link], link: [link, exe] };
}

function parseHostPort(ep: string): { address: string; port: number } {
  const i = ep.lastIndexOf(":");
  if (i <= 0) throw new UsageError(`expected ADDR:PORT, got '${ep}'`);
  const port = Number(ep.slice(i + 1));
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`bad port in '${ep}'`);
  return { address: ep.slice(0, i).replace(/^\[|\]$/g, ""), port };
}

export async function planInstall(flags: InstallFlags): Promise<InstallPlan> {
  const layout = resolveLayout({
    prefix: flags.prefix,
    instance: flags.instance,
    binDir: flags.binDir,
    libexecDir: flags.libexecDir,
    shareDir: flags.shareDir,
    imageDir: flags.imagePath,
  });
  const ignore = parseIgnoreList(flags.ignorePreflightErrors);
  const bundleCopies: [string, string][] = [];
  let bundleDir: string | undefined;
  let bundleImage: ImageEntry | undefined;
  if (flags.bundle) {
    // Unpacked and verified in a private temp dir; nothing reaches the layout before preflight passes.
    bundleDir = mkdtempSync(join(tmpdir(), "dstack-bundle-"));
    let b: Awaited<ReturnType<typeof verifyAndExtractBundle>>;
    try {
      b = await verifyAndExtractBundle(flags.bundle, bundleDir);
    } catch (e) {
      rmSync(bundleDir, { recursive: true, force: true });
      throw e;
    }
    if (b.vmmBin && !flags.vmmBin) {
      bundleCopies.push([b.vmmBin, join(layout.libexecDir, "dstack-vmm")]);
    }
    if (b.supervisorBin && !flags.supervisorBin) bundleCopies.push([b.supervisorBin, join(layout.libexecDir, "supervisor")]);
    if (b.keyProviderSrc && !flags.keyProviderSrc)
      bundleCopies.push([b.keyProviderSrc, join(layout.shareDir, "local-key-provider", "build")]);
    if (b.imageDir && b.imageName && !flags.image) {
      bundleImage = readImage(b.imageDir, b.imageName);
      bundleCopies.push([join(b.imageDir, b.imageName), join(layout.imageDir, b.imageName)]);
    }
  }
  const fromBundle = (dest: string) => bundleCopies.find(([, d]) => d === dest)?.[0];
  const prev = readInstallState(layout.stateFile);
  const kmsMode = !flags.noKms;
  const checks: CheckResult[] = [];

  // --- service manager
  // A named check like the others, so that doctor and a refused install still report everything.
  const sdRunning = systemdRunning();
  const isRoot = (process.getuid?.() ?? 0) === 0;
  const kind: ManagerKind = flags.serviceManager === "auto" ? (sdRunning && isRoot ? "systemd" : "detached") : flags.serviceManager;
  if (kind === "detached" && !flags.simulate) {
    checks.push({
      name: "service-manager",
      ok: false,
      detail: sdRunning
        ? "systemd runs here, but only root can register its units; without them the daemons could only run detached, which is for --simulate"
        : "systemd is not running (not PID 1): the daemons could only run detached, which is for --simulate",
      fix: sdRunning ? "run with sudo" : "run on a host booted with systemd, or add --simulate",
    });
  } else if (kind === "systemd" && !sdRunning) {
    checks.push({
      name: "service-manager",
      ok: false,
      detail: "--service-manager systemd, but systemd is not running here (no /run/systemd/system)",
      fix: "run on a host booted with systemd, or use --service-manager detached with --simulate",
    });
  } else {
    checks.push({ name: "service-manager", ok: true, detail: kind === "systemd" ? "systemd" : "detached processes (--simulate)" });
  }
  const manager = new Services(kind, layout.runDir);

  // --- platform
  let platform: Platform = "tdx";
  if (flags.simulate) {
    const p = parsePlatformFlag(flags.platform);
    if (!p) throw new UsageError(`unknown --platform '${flags.platform}' (expected: auto | tdx | amd-sev-snp)`);
    platform = p === "auto" ? "tdx" : p;
    checks.push(checkRoot(true));
  } else {
    checks.push(checkRoot(false));
    const p = parsePlatformFlag(flags.platform);
    if (!p) throw new UsageError(`unknown --platform '${flags.platform}' (expected: auto | tdx | amd-sev-snp)`);
    const detected = p === "auto" ? detectPlatform(flags.cpuinfo) : p;
    checks.push(checkPlatform(detected, flags.platform, flags.devRoot));
    platform = detected ?? "tdx";
    checks.push(checkKvm(flags.devRoot));
    checks.push(
      checkExecutable("qemu", "qemu", flags.qemu, "install qemu-system-x86_64 (apt-get install qemu-system-x86), or pass --qemu PATH"),
    );
  }
  checks.push(checkPrefixWritable([layout.configDir, layout.stateDir, layout.runDir, layout.libexecDir, layout.imageDir]));

  // --- binaries
  const auth = selfCommand("dstack-auth", layout.libexecDir);
  const links: [string, string][] = [];
  if (auth.link) links.push(auth.link);
  let vmmArgv0: string[];
  let supervisorBin: string;
  if (flags.simulate) {
    const sim = selfCommand("dstack-vmm-sim", layout.libexecDir);
    if (sim.link) links.push(sim.link);
    vmmArgv0 = sim.argv0;
    supervisorBin = join(layout.libexecDir, "supervisor");
  } else {
    const vmmBin = flags.vmmBin ?? join(layout.libexecDir, "dstack-vmm");
    supervisorBin = flags.supervisorBin ?? join(layout.libexecDir, "supervisor");
    const fix =
      "build dstack-vmm and supervisor from Dstack-TEE/dstack (cargo build --release -p dstack-vmm -p supervisor) and pass --vmm-bin/--supervisor-bin, or use an offline bundle";
    if (flags.buildFromSource) {
      // The PATH the build will run with (the sudo user's ~/.cargo/bin first): what is found here is what runs.
      const missing = ["git", "cargo"].filter((t) => !which(t, buildToolPath()));
      const src = flags.buildFromSource.source;
      checks.push(
        missing.length
          ? {
              name: "binaries",
              ok: false,
              detail: `--build-from-source needs ${missing.join(" and ")}`,
              fix: "install git and Rust (rustup) for the build user, or pass --vmm-bin/--supervisor-bin",
            }
          : src !== undefined && !coreDir(src)
            ? {
                name: "binaries",
                ok: false,
                detail: `--source ${src} is not a dstack source checkout (no Cargo.toml with vmm/ and supervisor/)`,
                fix: "point --source at a clone of Dstack-TEE/dstack, or leave it out to clone into the cache",
              }
            : {
                name: "binaries",
                ok: true,
                detail: `dstack-vmm and supervisor will be built from ${src ?? `${flags.buildFromSource.repo} (${flags.buildFromSource.ref})`}`,
              },
      );
    } else {
      const a = checkExecutable("binaries", "dstack-vmm", fromBundle(vmmBin) ?? vmmBin, fix);
      const b = checkExecutable("binaries", "supervisor", fromBundle(supervisorBin) ?? supervisorBin, fix);
      checks.push(a.ok ? b : a);
    }
    vmmArgv0 = [vmmBin];
  }

  // --- token (reuse a non-empty one)
  const oldToken = readIf(layout.tokenPath)?.trim();
  const token = oldToken || randomBytes(32).toString("hex");

  // --- ports
  const vmmActive = (await manager.state(layout.vmmUnit)).active;
  const authActive = (await manager.state(layout.authUnit)).active;
  let kmsPort = 0;
  if (kmsMode) {
    kmsPort = flags.kmsPort ?? prev?.kms_port ?? Number(prev?.kms_url?.split(":").pop() || 0);
    if (!kmsPort) {
      kmsPort = await pickFreePort("tcp", "127.0.0.1", {
        ranges: DEFAULT_PORT_POLICY.ranges,
        taken: [flags.dashboardPort, flags.authPort].map((p) => ({ protocol: "tcp", host_address: "127.0.0.1", host_port: p })),
        // The same install location draws the same candidates: --dry-run shows the port the install takes.
        random: seededRandom(layout.stateFile),
      });
    }
  }
  const keyProvider: KeyProviderPlan = { kind: "none", address: "127.0.0.1", port: flags.keyProviderPort };
  if (!flags.simulate && platform === "tdx" && kmsMode) {
    if (flags.useExistingKeyProvider) {
      const ep = parseHostPort(flags.useExistingKeyProvider);
      Object.assign(keyProvider, { kind: "existing", ...ep });
    } else {
      const src = flags.keyProviderSrc ?? join(layout.shareDir, "local-key-provider", "build");
      const project = `dstack-kp-${flags.keyProviderPort}`;
      Object.assign(keyProvider, { kind: "own", src, project });
      const compose = join(fromBundle(src) ?? src, "docker-compose.yaml");
      if (!existsSync(compose)) {
        checks.push({
          name: "key-provider",
          ok: false,
          detail: `no key provider: ${compose} does not exist`,
          fix: "pass --use-existing-key-provider ADDR:PORT, or --key-provider-src DIR to run our own",
        });
      } else if (!which("docker")) {
        checks.push({
          name: "key-provider",
          ok: false,
          detail: "docker is not installed (needed to run the local key provider)",
          fix: "install docker, or pass --use-existing-key-provider ADDR:PORT",
        });
      } else {
        checks.push({ name: "key-provider", ok: true, detail: `own, from ${src} (docker compose project ${project})` });
      }
    }
  }
  const portEntries: PortEntry[] = [
    {
      what: "dashboard",
      flag: "--dashboard-port",
      address: "127.0.0.1",
      port: flags.dashboardPort,
      owned: vmmActive && prev?.dashboard_port === flags.dashboardPort,
    },
    {
      what: "auth webhook",
      flag: "--auth-port",
      address: "127.0.0.1",
      port: flags.authPort,
      owned: authActive && prev?.auth_port === flags.authPort,
    },
  ];
  if (kmsMode) {
    portEntries.push({
      what: "kms",
      flag: "--kms-port",
      address: "127.0.0.1",
      port: kmsPort,
      owned: vmmActive && prev?.kms_port === kmsPort && !!prev?.kms_vm_id,
    });
  }
  if (keyProvider.kind === "own") {
    portEntries.push({
      what: "key provider",
      flag: "--key-provider-port",
      address: "127.0.0.1",
      port: flags.keyProviderPort,
      owned: prev?.kp_own_project === keyProvider.project,
    });
  }
  checks.push(await checkPorts(portEntries));

  // --- CIDs and host-api port against other VMMs (ours excluded)
  const co = scanCoexistence(layout.vmmConfig);
  const cid = checkCids(co.cidRanges, flags.cidStart ?? prev?.cid_start, 1000);
  checks.push(cid.result);
  if (kmsMode) checks.push(checkHostApi(flags.hostApiPort, co.hostApiPorts));

  // --- the allowlist a re-run keeps: it must be valid, or the apply would stop half-way
  if (existsSync(layout.allowlistPath)) {
    try {
      parseAllowlist(readFileSync(layout.allowlistPath, "utf8"));
      checks.push({ name: "allowlist", ok: true, detail: `${layout.allowlistPath} is valid (its registered apps are kept)` });
    } catch (e) {
      checks.push({
        name: "allowlist",
        ok: false,
        detail: `${layout.allowlistPath} is invalid: ${(e as Error).message}`,
        fix: `fix it (\`dstack-auth check --config ${layout.allowlistPath}\` shows the bad field), or move it away to start with an empty one`,
      });
    }
  }

  // --- guest image and pin
  let image: ImageEntry | undefined;
  let createImage: string | undefined;
  let pin: string | undefined;
  const requireDigest = kmsMode && !flags.allowUnpinnedImage;
  try {
    image = bundleImage ?? resolveImage(layout.imageDir, flags.image, { requireDigest });
  } catch (e) {
    if (flags.simulate && !(flags.image && readImage(layout.imageDir, flags.image))) {
      createImage = flags.image ?? DEFAULT_SIM_IMAGE;
    } else if (!kmsMode && !flags.image) {
      checks.push({
        name: "image",
        ok: true,
        warning: true,
        detail: `no guest image in ${layout.imageDir}: deploying apps will need one (\`dstackup image pull\`)`,
      });
    } else {
      const err = e as DstackError;
      checks.push({ name: "image", ok: false, detail: err.message, fix: err.hint ?? "pull one with `dstackup image pull`" });
    }
  }
  if (image && kmsMode && !versionAtLeast(image.version)) {
    checks.push({
      name: "image",
      ok: false,
      detail: `${image.name} is version ${image.version || "unknown"}: dstack-vmm starts CVMs only from images ${MIN_IMAGE_VERSION.join(".")} or newer`,
      fix: "pull a newer one with `dstackup image pull`, or pass --image NAME of one",
    });
  } else if (image) {
    pin = image.digest;
    if (pin)
      checks.push({ name: "image", ok: true, detail: `${image.name} (version ${image.version || "?"}), pinning app os image ${pin}` });
    else if (!kmsMode) checks.push({ name: "image", ok: true, detail: `${image.name} (no digest.txt: apps are not pinned; --no-kms)` });
    else
      checks.push({
        name: "image",
        ok: true,
        warning: true,
        detail: `${image.name}: app os image not pinned (--allow-unpinned-image) - apps' image is unchecked`,
      });
  } else if (createImage) {
    checks.push({ name: "image", ok: true, detail: `${createImage} (simulated guest image, generated at install)` });
  }

  const cfg: HostConfig = {
    platform,
    simulate: flags.simulate,
    configDir: layout.configDir,
    stateDir: layout.stateDir,
    runDir: layout.runDir,
    imageDir: layout.imageDir,
    vmDir: layout.vmDir,
    allowlistPath: layout.allowlistPath,
    vmmConfig: layout.vmmConfig,
    tokenPath: layout.tokenPath,
    vmmBin: vmmArgv0[0]!,
    authBin: auth.argv0[0]!,
    supervisorBin,
    qemuPath: flags.qemu,
    dashboardPort: flags.dashboardPort,
    authPort: flags.authPort,
    kmsPort,
    hostApiPort: flags.hostApiPort,
    keyProviderAddress: keyProvider.address,
    keyProviderPort: keyProvider.port,
    cidStart: cid.start,
    cidPoolSize: 1000,
    token,
  };

  const vmmToml = renderVmmToml(cfg);
  const files: PlannedFile[] = [
    { path: layout.vmmConfig, content: vmmToml, mode: 0o600, before: readIf(layout.vmmConfig) },
    { path: layout.kmsConfig, content: renderKmsToml(cfg), mode: 0o644, before: readIf(layout.kmsConfig) },
    { path: layout.tokenPath, content: `${token}\n`, mode: 0o600, forceMode: true, secret: true, before: readIf(layout.tokenPath) },
  ];

  const authArgv = [...auth.argv0, "serve", "--config", layout.allowlistPath, "--address", "127.0.0.1", "--port", String(flags.authPort)];
  const vmmArgv = [...vmmArgv0, "-c", layout.vmmConfig];
  const authSpec: ServiceSpec = {
    name: layout.authUnit,
    argv: authArgv,
    cwd: layout.stateDir,
    unitText: renderAuthUnit({
      authBin: authArgv[0]!,
      extraArgs: authArgv.slice(1, auth.argv0.length),
      allowlistPath: layout.allowlistPath,
      authPort: flags.authPort,
      stateDir: layout.stateDir,
    }),
  };
  const vmmSpec: ServiceSpec = {
    name: layout.vmmUnit,
    argv: vmmArgv,
    cwd: layout.stateDir,
    unitText: renderVmmUnit({
      vmmBin: vmmArgv[0]!,
      extraArgs: vmmArgv0.slice(1),
      vmmConfig: layout.vmmConfig,
      stateDir: layout.stateDir,
      authUnit: layout.authUnit,
    }),
  };

  return {
    flags,
    layout,
    prev,
    cfg,
    checks: applyIgnores(checks, ignore),
    image,
    createImage,
    pin,
    files,
    manager,
    auth: authSpec,
    vmm: vmmSpec,
    links,
    keyProvider,
    // the VMM reads vmm.toml only at start; the webhook re-reads the allowlist per request
    // Restart when vmm.toml changes, or when the running VMM was started with another one
    // (an earlier apply wrote it and then stopped before the restart).
    restartVmm:
      (files[0]!.before !== undefined && files[0]!.before !== vmmToml) ||
      (prev?.vmm_config_sha256 !== undefined && prev.vmm_config_sha256 !== sha256(vmmToml)),
    restartAuth: false,
    bundleCopies,
    bundleDir,
  };
}

export { clientUrlFor, kmsUrlFor };

/** A deterministic [0, 1) sequence from a string (FNV-1a seed, mulberry32). */
function seededRandom(seed: string): () => number {
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 0x01000193);
  return () => {
    h = (h + 0x6d2b79f5) | 0;
    let t = Math.imul(h ^ (h >>> 15), 1 | h);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
