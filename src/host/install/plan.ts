/**
 * `dstackup install`, phase 1: work out everything (paths, ports, CIDs, image,
 * token, rendered files, services) and run every preflight check — with no
 * side effect on the host. Phase 2 (apply.ts) carries the plan out.
 * The checks are preflight.ts; this file gathers the facts they judge and renders the files.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DstackError, UsageError } from "../../core/errors.ts";
import { readTextIfExists } from "../../core/fsutil.ts";
import { seededRandom, sha256Hex } from "../../core/hash.ts";
import { type Layout, resolveLayout } from "../../core/layout.ts";
import type { HostConfig, Platform } from "../../core/render/host-config.ts";
import { renderKmsToml } from "../../core/render/kms-toml.ts";
import { renderVmmToml } from "../../core/render/vmm-toml.ts";
import { parsePublicKey, RELEASE_KEY } from "../../core/signing-key.ts";
import { pickCidStart } from "../../core/specs/cid.ts";
import { DEFAULT_PORT_POLICY } from "../../core/specs/ports.ts";
import type { RuntimeChoice, SimRuntime } from "../../core/specs/sim-runtime.ts";
import { pickFreePort } from "../free-port.ts";
import { type ImageEntry, readImage, resolveImage } from "../images/images.ts";
import { type ManagerKind, type ServiceSpec, Services } from "../services/services.ts";
import { systemdRunning } from "../services/systemd.ts";
import { trustedKeyFrom } from "../signature.ts";
import { verifyAndExtractBundle } from "./bundle.ts";
import { scanCoexistence } from "./coexist.ts";
import { detectPlatform, parsePlatformFlag } from "./platform.ts";
import { type ImageChoice, imageTooOld } from "./preflight/inputs.ts";
import type { CidChoice, PortEntry } from "./preflight/network.ts";
import type { KeyProviderFacts } from "./preflight/programs.ts";
import type { CheckResult } from "./preflight/result.ts";
import { parseIgnoreList, runPreflight } from "./preflight.ts";
import { selfCommand, serviceSpecs } from "./service-specs.ts";
import { DamagedStateError, type InstallState, readInstallState } from "./state.ts";

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
  /** --runtime (simulate only) */
  runtime?: RuntimeChoice | undefined;
  /** what --runtime resolved to (simulate only; the caller probes the engines) */
  detectedRuntime?: { runtime: SimRuntime; notes: string[]; error?: string | undefined } | undefined;
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
  /** --trusted-key: the key the bundle must be signed with (default: the pinned release key) */
  trustedKey?: string | undefined;
  /** --require-signature: refuse a bundle whose signature cannot be checked (no ssh-keygen) */
  requireSignature?: boolean | undefined;
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
const CID_POOL = 1000;

function parseHostPort(ep: string): { address: string; port: number } {
  const i = ep.lastIndexOf(":");
  if (i <= 0) throw new UsageError(`expected ADDR:PORT, got '${ep}'`);
  const port = Number(ep.slice(i + 1));
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`bad port in '${ep}'`);
  return { address: ep.slice(0, i).replace(/^\[|\]$/g, ""), port };
}

function parsePlatform(flag: string): "auto" | Platform {
  const p = parsePlatformFlag(flag);
  if (!p) throw new UsageError(`unknown --platform '${flag}' (expected: auto | tdx | amd-sev-snp)`);
  return p;
}

interface Unpacked {
  /** [source in the verified unpacked bundle, destination in the layout] */
  copies: [string, string][];
  dir: string | undefined;
  image: ImageEntry | undefined;
}

/** --bundle: unpacked and verified in a private temp dir; nothing reaches the layout before preflight passes. */
async function unpackBundle(flags: InstallFlags, layout: Layout, warn: (m: string) => void): Promise<Unpacked> {
  const out: Unpacked = { copies: [], dir: undefined, image: undefined };
  if (!flags.bundle) return out;
  const trust = {
    trustedKey: flags.trustedKey ? trustedKeyFrom(flags.trustedKey) : parsePublicKey(RELEASE_KEY, "the release key"),
    requireSignature: flags.requireSignature === true,
    warn,
  };
  const dir = mkdtempSync(join(tmpdir(), "dstack-bundle-"));
  let b: Awaited<ReturnType<typeof verifyAndExtractBundle>>;
  try {
    b = await verifyAndExtractBundle(flags.bundle, dir, trust);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  out.dir = dir;
  if (b.vmmBin && !flags.vmmBin) out.copies.push([b.vmmBin, join(layout.libexecDir, "dstack-vmm")]);
  if (b.supervisorBin && !flags.supervisorBin) out.copies.push([b.supervisorBin, join(layout.libexecDir, "supervisor")]);
  if (b.keyProviderSrc && !flags.keyProviderSrc) out.copies.push([b.keyProviderSrc, join(layout.shareDir, "local-key-provider", "build")]);
  if (b.imageDir && b.imageName && !flags.image) {
    out.image = readImage(b.imageDir, b.imageName);
    out.copies.push([join(b.imageDir, b.imageName), join(layout.imageDir, b.imageName)]);
  }
  return out;
}

/** The CID window: the asked or recorded --cid-start, else the first block no other VMM holds. */
function chooseCids(occupied: [number, number][], explicit: number | undefined): CidChoice {
  try {
    return { ...pickCidStart(occupied, CID_POOL, explicit), poolSize: CID_POOL };
  } catch (e) {
    return { start: explicit ?? 1000, moved: false, poolSize: CID_POOL, error: e as DstackError };
  }
}

/** The layout an install with these flags writes. */
export function installLayout(flags: InstallFlags): Layout {
  return resolveLayout({
    prefix: flags.prefix,
    instance: flags.instance,
    binDir: flags.binDir,
    libexecDir: flags.libexecDir,
    shareDir: flags.shareDir,
    imageDir: flags.imagePath,
  });
}

/** warn: where a bundle whose signature cannot be checked here (no ssh-keygen) is reported */
export async function planInstall(flags: InstallFlags, warn: (m: string) => void = () => {}): Promise<InstallPlan> {
  const layout = installLayout(flags);
  const ignore = parseIgnoreList(flags.ignorePreflightErrors);
  const bundle = await unpackBundle(flags, layout, warn);
  const fromBundle = (dest: string) => bundle.copies.find(([, d]) => d === dest)?.[0];
  // A damaged state file is a preflight failure ("state"); ignored, the install starts afresh.
  let prev: InstallState | undefined;
  let stateProblem: DamagedStateError | undefined;
  try {
    prev = readInstallState(layout.stateFile);
  } catch (e) {
    if (!(e instanceof DamagedStateError)) throw e;
    stateProblem = e;
  }
  const kmsMode = !flags.noKms;
  const isRoot = (process.getuid?.() ?? 0) === 0;
  // A file the install rewrites, as it is now. Without root (doctor, a refused install) a root-only
  // file counts as absent: nothing is written then, and the root check says why.
  const current = (path: string): string | undefined => {
    try {
      return readTextIfExists(path);
    } catch (e) {
      if (!isRoot && (e as NodeJS.ErrnoException).code === "EACCES") return undefined;
      throw e;
    }
  };

  // service manager
  const sdRunning = systemdRunning();
  const kind: ManagerKind = flags.serviceManager === "auto" ? (sdRunning && isRoot ? "systemd" : "detached") : flags.serviceManager;
  const manager = new Services(kind, layout.runDir);

  // platform (looked for only on a real host)
  const requested = parsePlatform(flags.platform);
  const detected = flags.simulate ? undefined : requested === "auto" ? detectPlatform(flags.cpuinfo) : requested;
  const platform: Platform = flags.simulate ? (requested === "auto" ? "tdx" : requested) : (detected ?? "tdx");

  // binaries: this program answers as dstack-auth (and as the simulated VMM)
  const auth = selfCommand("dstack-auth", layout.libexecDir);
  const links: [string, string][] = [];
  if (auth.link) links.push(auth.link);
  let vmmArgv0: string[];
  let supervisorBin = join(layout.libexecDir, "supervisor");
  if (flags.simulate) {
    const sim = selfCommand("dstack-vmm-sim", layout.libexecDir);
    if (sim.link) links.push(sim.link);
    vmmArgv0 = sim.argv0;
  } else {
    vmmArgv0 = [flags.vmmBin ?? join(layout.libexecDir, "dstack-vmm")];
    supervisorBin = flags.supervisorBin ?? supervisorBin;
  }

  // token (reuse a non-empty one)
  const token = current(layout.tokenPath)?.trim() || randomBytes(32).toString("hex");

  // ports
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

  // key provider: the one the KMS CVM asks (TDX only)
  const keyProvider: KeyProviderPlan = { kind: "none", address: "127.0.0.1", port: flags.keyProviderPort };
  let ownKeyProvider: KeyProviderFacts | undefined;
  if (!flags.simulate && platform === "tdx" && kmsMode) {
    if (flags.useExistingKeyProvider) {
      Object.assign(keyProvider, { kind: "existing", ...parseHostPort(flags.useExistingKeyProvider) });
    } else {
      const src = flags.keyProviderSrc ?? join(layout.shareDir, "local-key-provider", "build");
      const project = `dstack-kp-${flags.keyProviderPort}`;
      Object.assign(keyProvider, { kind: "own", src, project });
      ownKeyProvider = { src, project, compose: join(fromBundle(src) ?? src, "docker-compose.yaml") };
    }
  }
  const port = (what: string, flag: string, p: number, owned: boolean): PortEntry => ({ what, flag, address: "127.0.0.1", port: p, owned });
  const ports = [
    port("dashboard", "--dashboard-port", flags.dashboardPort, vmmActive && prev?.dashboard_port === flags.dashboardPort),
    port("auth webhook", "--auth-port", flags.authPort, authActive && prev?.auth_port === flags.authPort),
  ];
  if (kmsMode) ports.push(port("kms", "--kms-port", kmsPort, vmmActive && prev?.kms_port === kmsPort && !!prev?.kms_vm_id));
  if (ownKeyProvider) {
    ports.push(port("key provider", "--key-provider-port", flags.keyProviderPort, prev?.kp_own_project === ownKeyProvider.project));
  }

  // CIDs and host-api port against other VMMs (ours excluded)
  const co = scanCoexistence(layout.vmmConfig);
  const cids = chooseCids(co.cidRanges, flags.cidStart ?? prev?.cid_start);

  // guest image and pin
  const imageChoice: ImageChoice = { kmsMode, simulate: flags.simulate, requested: flags.image, imageDir: layout.imageDir };
  try {
    imageChoice.image = bundle.image ?? resolveImage(layout.imageDir, flags.image, { requireDigest: kmsMode && !flags.allowUnpinnedImage });
  } catch (e) {
    // --simulate generates its own guest image, unless one is named: a named image must exist
    if (flags.simulate && !flags.image) imageChoice.createImage = DEFAULT_SIM_IMAGE;
    else imageChoice.error = e as DstackError;
  }
  const { image, createImage } = imageChoice;
  const pin = image && !imageTooOld(image, kmsMode) ? image.digest : undefined;

  const checks = await runPreflight(
    {
      simulate: flags.simulate,
      serviceManager: { kind, systemdRunning: sdRunning },
      platform: flags.simulate ? undefined : { requested: flags.platform, detected },
      devRoot: flags.devRoot,
      qemu: flags.qemu,
      runtime: flags.simulate ? { choice: flags.runtime ?? "auto", detected: flags.detectedRuntime } : undefined,
      installDirs: [layout.configDir, layout.stateDir, layout.runDir, layout.libexecDir, layout.imageDir],
      binaries: {
        simulate: flags.simulate,
        vmm: fromBundle(vmmArgv0[0]!) ?? vmmArgv0[0]!,
        supervisor: fromBundle(supervisorBin) ?? supervisorBin,
        vmmFlag: flags.vmmBin,
        supervisorFlag: flags.supervisorBin,
        buildFromSource: flags.buildFromSource,
      },
      keyProvider: ownKeyProvider,
      ports,
      cids,
      hostApi: kmsMode ? { port: flags.hostApiPort, taken: co.hostApiPorts } : undefined,
      state: { path: layout.stateFile, exists: existsSync(layout.stateFile), problem: stateProblem },
      allowlistPath: layout.allowlistPath,
      image: imageChoice,
    },
    ignore,
  );

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
    cidStart: cids.start,
    cidPoolSize: CID_POOL,
    token,
    ...(flags.simulate && flags.detectedRuntime ? { simRuntime: flags.detectedRuntime.runtime } : {}),
  };

  const vmmToml = renderVmmToml(cfg);
  const files: PlannedFile[] = [
    { path: layout.vmmConfig, content: vmmToml, mode: 0o600, before: current(layout.vmmConfig) },
    { path: layout.kmsConfig, content: renderKmsToml(cfg), mode: 0o644, before: current(layout.kmsConfig) },
    { path: layout.tokenPath, content: `${token}\n`, mode: 0o600, forceMode: true, secret: true, before: current(layout.tokenPath) },
  ];

  return {
    flags,
    layout,
    prev,
    cfg,
    checks,
    image,
    createImage,
    pin,
    files,
    manager,
    ...serviceSpecs(layout, auth.argv0, vmmArgv0, flags.authPort),
    links,
    keyProvider,
    // the VMM reads vmm.toml only at start; the webhook re-reads the allowlist per request
    // Restart when vmm.toml changes, or when the running VMM was started with another one
    // (an earlier apply wrote it and then stopped before the restart).
    restartVmm:
      (files[0]!.before !== undefined && files[0]!.before !== vmmToml) ||
      (prev?.vmm_config_sha256 !== undefined && prev.vmm_config_sha256 !== sha256Hex(vmmToml)),
    restartAuth: false,
    bundleCopies: bundle.copies,
    bundleDir: bundle.dir,
  };
}
