/**
 * `dstackup install`, phase 2: carry out a plan whose preflight passed.
 * Each step says what it did; a step with nothing to do says so, and a re-run
 * with the same flags changes nothing and restarts nothing.
 */
import { createHash } from "node:crypto";
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmdirSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { withOsImages } from "../../auth/allowlist.ts";
import { updateAllowlist } from "../../auth/allowlist-file.ts";
import { DstackError, type ErrorOptions } from "../../core/errors.ts";
import { writeAtomic } from "../../core/fsutil.ts";
import { sha256Hex } from "../../core/hash.ts";
import type { Progress } from "../../core/progress.ts";
import { clientUrlFor, kmsUrlFor } from "../../core/render/host-config.ts";
import { createSimulatedImage } from "../images/images.ts";
import { startKeyProvider } from "../kms/key-provider.ts";
import { deployKms, type KmsOutcome } from "../kms/kms.ts";
import { waitForAuth, waitForVmm } from "../services/readiness.ts";
import type { ServiceAction } from "../services/services.ts";
import { buildFromSource } from "./build-source.ts";
import { purgeTargets } from "./destroy.ts";
import type { InstallPlan } from "./plan.ts";
import { type InstallState, installPlatform, writeInstallState } from "./state.ts";

export interface InstallResult {
  changed: string[];
  unchanged: string[];
  services: Record<string, ServiceAction>;
  kms: KmsOutcome | undefined;
  state: InstallState;
  clientUrl: string;
  kmsUrl: string;
}

function ensureLink(link: string, target: string): boolean {
  try {
    if (lstatSync(link).isSymbolicLink() && readlinkSync(link) === target) return false;
    rmSync(link, { force: true });
  } catch {
    /* missing */
  }
  mkdirSync(dirname(link), { recursive: true, mode: 0o755 });
  symlinkSync(target, link);
  return true;
}

/** The ancestors of `dir` (itself included) that do not exist yet, outermost first. */
function missingAncestors(dir: string): string[] {
  const out: string[] = [];
  let d = dir;
  while (!existsSync(d)) {
    out.unshift(d);
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  return out;
}

export async function applyInstall(plan: InstallPlan, p: Progress, opts: { timeoutMs: number; noStart: boolean }): Promise<InstallResult> {
  const { layout, cfg } = plan;
  const changed: string[] = [];
  const unchanged: string[] = [];
  // Remember every directory this install creates, so destroy --purge removes exactly those.
  const created = new Set<string>(plan.prev?.created_dirs ?? []);
  const createdPaths = new Set<string>(plan.prev?.created_paths ?? []);
  // What the purge targets already held (first install only): destroy --purge removes only what came after.
  const preexisting: Record<string, string[]> = plan.prev
    ? { ...(plan.prev.preexisting_entries ?? {}) }
    : Object.fromEntries(
        purgeTargets(layout)
          .filter((d) => existsSync(d))
          .map((d) => [d, readdirSync(d).sort()]),
      );
  const dirsWeNeed = [
    layout.configDir,
    layout.stateDir,
    layout.runDir,
    layout.imageDir,
    layout.vmDir,
    ...plan.links.map(([l]) => dirname(l)),
    ...plan.bundleCopies.map(([, d]) => dirname(d)),
  ];
  for (const d of dirsWeNeed) for (const m of missingAncestors(d)) created.add(m);

  // The build comes first: it is the step most likely to fail, and when it does no config,
  // state or service has been touched (only the source cache keeps what it fetched).
  let newVmmBinary = false;
  if (plan.flags.buildFromSource && !plan.flags.simulate) {
    // what the build creates on its way to the source cache: removed again if it fails and they are empty
    const buildDirs = missingAncestors(join(layout.cacheDir, "source"));
    let b: Awaited<ReturnType<typeof buildFromSource>>;
    try {
      b = await buildFromSource({ ...plan.flags.buildFromSource, cacheDir: layout.cacheDir, libexecDir: layout.libexecDir }, p);
    } catch (e) {
      for (const d of buildDirs.reverse()) {
        try {
          if (readdirSync(d).length === 0) rmdirSync(d);
        } catch {
          /* gone, or not empty */
        }
      }
      throw new NothingStartedError(e instanceof Error ? e.message : String(e), {
        hint: `${e instanceof DstackError && e.hint ? `${e.hint}; ` : ""}nothing was configured or started; fix the cause and run the same install again (the source cache ${layout.cacheDir} is kept for the next try)`,
        cause: e,
      });
    }
    if (b.built) {
      changed.push(`${layout.libexecDir}/dstack-vmm`);
      newVmmBinary = true; // a running VMM must restart to run it
    }
  }
  for (const d of [layout.configDir, layout.stateDir, layout.runDir, layout.imageDir, layout.vmDir])
    mkdirSync(d, { recursive: true, mode: 0o755 });

  for (const [src, dest] of plan.bundleCopies) {
    // The same bundle again: what is in place is kept (an image a running CVM uses is not touched).
    if (existsSync(dest) && treeDigest(src) === treeDigest(dest)) {
      unchanged.push(dest);
      continue;
    }
    mkdirSync(dirname(dest), { recursive: true, mode: 0o755 });
    const next = `${dest}.new-${process.pid}`;
    rmSync(next, { recursive: true, force: true });
    cpSync(src, next, { recursive: true, preserveTimestamps: true });
    rmSync(dest, { recursive: true, force: true });
    renameSync(next, dest);
    createdPaths.add(dest);
    changed.push(dest);
    if (dest === join(layout.libexecDir, "dstack-vmm") || dest === join(layout.libexecDir, "supervisor")) newVmmBinary = true;
    p.ok(`installed ${dest} from the bundle`);
  }
  let pin = plan.pin;
  let imageName = plan.image?.name;
  if (plan.createImage) {
    const img = createSimulatedImage(layout.imageDir, plan.createImage);
    createdPaths.add(join(layout.imageDir, img.name));
    pin = img.digest;
    imageName = img.name;
    changed.push(`image ${img.name}`);
    p.ok(`created simulated guest image ${img.name} (pin ${pin})`);
  }

  for (const [link, target] of plan.links) {
    if (ensureLink(link, target)) {
      changed.push(link);
      p.ok(`linked ${link} -> ${target}`);
    }
  }

  for (const f of plan.files) {
    if (f.before === f.content) {
      unchanged.push(f.path);
      continue;
    }
    writeAtomic(f.path, f.content, { mode: f.mode, forceMode: f.forceMode ?? false });
    changed.push(f.path);
    p.ok(`${f.before === undefined ? "wrote" : "updated"} ${f.path}`);
  }

  // The allowlist: keep every registered app; only the OS image pin is ours to set.
  const pins = pin ? [pin] : [];
  const al = await updateAllowlist(layout.allowlistPath, (list) => withOsImages(list, pins));
  if (al.changed) {
    changed.push(layout.allowlistPath);
    p.ok(`${al.created ? "wrote" : "updated"} ${layout.allowlistPath} (os image pin ${pin ?? "none"}; registered apps kept)`);
  } else unchanged.push(layout.allowlistPath);

  const clientUrl = clientUrlFor(cfg);
  const kmsUrl = kmsUrlFor(cfg);
  const now = new Date().toISOString();
  const state: InstallState = {
    prefix: layout.stateDir,
    install_prefix: layout.prefix ?? null,
    config_dir: layout.configDir,
    state_dir: layout.stateDir,
    cache_dir: layout.cacheDir,
    run_dir: layout.runDir,
    allowlist_path: layout.allowlistPath,
    platform: installPlatform(cfg),
    client_url: clientUrl,
    client_token_path: layout.tokenPath,
    auth_port: cfg.authPort,
    vmm_unit: layout.vmmUnit,
    auth_unit: layout.authUnit,
    kms_vm_id: plan.prev?.kms_vm_id ?? null,
    kms_url: kmsUrl,
    image: imageName ?? null,
    kp_own_project: plan.keyProvider.kind === "own" ? (plan.keyProvider.project ?? null) : null,
    instance: layout.instance ?? null,
    simulate: cfg.simulate,
    service_manager: plan.manager.kind,
    image_pin: pin ?? null,
    dashboard_port: cfg.dashboardPort,
    kms_port: cfg.kmsPort,
    kms_signer: plan.flags.noKms ? undefined : plan.prev?.kms_signer,
    host_api_port: cfg.hostApiPort,
    cid_start: cfg.cidStart,
    links: plan.links.map(([l]) => l),
    created_dirs: [...created].sort(),
    preexisting_entries: preexisting,
    // set below once the VMM runs this vmm.toml; here so that the key keeps its place in the file
    vmm_config_sha256: plan.prev?.vmm_config_sha256 || undefined,
    created_paths: [...createdPaths].sort(),
    installed_at: plan.prev?.installed_at ?? now,
    updated_at: plan.prev?.updated_at ?? now,
  };
  const services: Record<string, ServiceAction> = {};
  if (opts.noStart) {
    p.warn("--no-start: configs written; not starting any process");
    return { changed, unchanged, services, kms: undefined, state, clientUrl, kmsUrl };
  }

  // A first install records its state before it starts anything, so that if a later step
  // fails (the KMS CVM, a daemon that does not answer), status and destroy still find
  // what was started. The final write below completes it.
  if (!existsSync(layout.stateFile)) writeInstallState(layout.stateFile, state);

  if (plan.keyProvider.kind !== "none") {
    await startKeyProvider(plan.keyProvider, p);
  }

  services[plan.auth.name] = await plan.manager.ensure(plan.auth, plan.restartAuth);
  report(p, plan.auth.name, services[plan.auth.name]!, `on 127.0.0.1:${cfg.authPort}`);
  services[plan.vmm.name] = await plan.manager.ensure(plan.vmm, plan.restartVmm || newVmmBinary);
  if (services[plan.vmm.name] !== "unchanged" || !state.vmm_config_sha256) state.vmm_config_sha256 = sha256Hex(plan.files[0]!.content);
  report(p, plan.vmm.name, services[plan.vmm.name]!, `at ${clientUrl}${cfg.simulate ? " (dstack-vmm-sim: simulated, no TEE)" : ""}`);

  await waitForAuth(cfg.authPort, opts.timeoutMs, plan.manager.logHint(plan.auth.name), p);
  await waitForVmm(clientUrl, cfg.token, opts.timeoutMs, plan.manager.logHint(plan.vmm.name), p);

  let kms: KmsOutcome | undefined;
  if (plan.flags.noKms) {
    p.ok("--no-kms: skipping the KMS CVM");
  } else {
    if (!imageName) throw new DstackError("kms deploy needs a guest image (pass --image NAME, or --no-kms)");
    kms = await deployKms(plan, { clientUrl, token: cfg.token, image: imageName, timeoutMs: opts.timeoutMs }, p);
    state.kms_vm_id = kms.vmId;
    if (kms.signer) state.kms_signer = kms.signer;
    if (kms.created) changed.push(`kms cvm ${kms.vmId}`);
    if (kms.updated?.length) changed.push(`kms cvm ${kms.vmId} (${kms.updated.join(", ")})`);
  }
  if (changed.length || Object.values(services).some((a) => a !== "unchanged")) state.updated_at = now;
  writeInstallState(layout.stateFile, state);
  return { changed, unchanged, services, kms, state, clientUrl, kmsUrl };
}

function report(p: Progress, name: string, a: ServiceAction, where: string): void {
  if (a === "unchanged") p.ok(`${name} already running ${where} (unchanged, not restarted)`);
  else p.ok(`${a} ${name} ${where}`);
}

/** sha256 over a file, or a directory's sorted relative paths and file contents. */
function treeDigest(path: string): string {
  const h = createHash("sha256");
  const walk = (p: string, rel: string) => {
    const st = lstatSync(p);
    if (st.isDirectory()) {
      h.update(`d ${rel}\n`);
      for (const e of readdirSync(p).sort()) walk(join(p, e), rel ? `${rel}/${e}` : e);
    } else if (st.isSymbolicLink()) h.update(`l ${rel} ${readlinkSync(p)}\n`);
    else {
      h.update(`f ${rel} ${st.mode & 0o777}\n`);
      h.update(readFileSync(p));
    }
  };
  walk(path, "");
  return h.digest("hex");
}

/** A failure of install's first step, before anything was configured or started (so there is nothing to undo). */
export class NothingStartedError extends DstackError {
  constructor(message: string, opts: ErrorOptions) {
    super(message, opts);
    this.name = "NothingStartedError";
  }
}
