/** Preflight checks of the host itself: service manager, privileges, the install directories, the TEE platform, KVM. */
import { accessSync, constants, existsSync } from "node:fs";
import { dirname } from "node:path";
import type { Platform } from "../../../core/render/host-config.ts";
import type { ManagerKind } from "../../services/services.ts";
import { missingDevices } from "../platform.ts";
import type { CheckResult } from "./result.ts";

export interface ServiceManagerFacts {
  /** The manager the install will use (--service-manager, or auto: systemd when it runs and we are root). */
  kind: ManagerKind;
  systemdRunning: boolean;
}

/** A named check like the others, so that doctor and a refused install still report everything. */
export function checkServiceManager(f: ServiceManagerFacts, simulate: boolean): CheckResult {
  if (f.kind === "detached" && !simulate) {
    return {
      name: "service-manager",
      ok: false,
      detail: f.systemdRunning
        ? "systemd runs here, but only root can register its units; without them the daemons could only run detached, which is for --simulate"
        : "systemd is not running (not PID 1): the daemons could only run detached, which is for --simulate",
      fix: f.systemdRunning ? "run with sudo" : "run on a host booted with systemd, or add --simulate",
    };
  }
  if (f.kind === "systemd" && !f.systemdRunning) {
    return {
      name: "service-manager",
      ok: false,
      detail: "--service-manager systemd, but systemd is not running here (no /run/systemd/system)",
      fix: "run on a host booted with systemd, or use --service-manager detached with --simulate",
    };
  }
  return { name: "service-manager", ok: true, detail: f.kind === "systemd" ? "systemd" : "detached processes (--simulate)" };
}

export function checkRoot(simulate: boolean): CheckResult {
  const uid = process.getuid?.() ?? 0;
  if (uid === 0) return { name: "root", ok: true, detail: "running as root" };
  if (simulate) return { name: "root", ok: true, detail: `running as uid ${uid} (fine for --simulate under a writable --prefix)` };
  return {
    name: "root",
    ok: false,
    detail: `running as uid ${uid}`,
    fix: "run with sudo, or use --simulate --prefix DIR to try it unprivileged",
  };
}

/** The nearest existing ancestor of each directory must be writable. */
export function checkPrefixWritable(dirs: string[]): CheckResult {
  for (const d of dirs) {
    let p = d;
    while (!existsSync(p)) p = dirname(p);
    try {
      accessSync(p, constants.W_OK);
    } catch {
      return {
        name: "prefix",
        ok: false,
        detail: `${p} is not writable (needed for ${d})`,
        fix: "run as root, or pass --prefix to a directory you own",
      };
    }
  }
  return { name: "prefix", ok: true, detail: "install directories are writable" };
}

export function checkPlatform(platform: Platform | undefined, requested: string, devRoot = "/dev"): CheckResult {
  if (!platform) {
    return {
      name: "platform",
      ok: false,
      detail:
        requested === "auto"
          ? "no TDX (tdx_host_platform) or SEV-SNP (sev_snp) CPU flag in /proc/cpuinfo"
          : `unknown platform ${requested}`,
      fix: "run on a TDX or SEV-SNP host (BIOS + kernel support), pass --platform tdx|amd-sev-snp, or try the tools with --simulate",
    };
  }
  const missing = missingDevices(platform, devRoot);
  if (missing.length) {
    return platform === "tdx"
      ? {
          name: "platform",
          ok: false,
          detail: `tdx, but sgx not available (missing ${missing.join(", ")})`,
          fix: "dstack requires Intel SGX for the local key provider — enable SGX in BIOS, or run on a TDX+SGX host",
        }
      : {
          name: "platform",
          ok: false,
          detail: `amd-sev-snp, but missing ${missing.join(", ")}`,
          fix: "enable SEV-SNP in BIOS and load kvm_amd, or pass --platform tdx",
        };
  }
  return { name: "platform", ok: true, detail: platform };
}

export function checkKvm(devRoot = "/dev"): CheckResult {
  return existsSync(`${devRoot}/kvm`)
    ? { name: "kvm", ok: true, detail: `${devRoot}/kvm present` }
    : {
        name: "kvm",
        ok: false,
        detail: `${devRoot}/kvm missing`,
        fix: "load the kvm module (modprobe kvm_intel / kvm_amd) and check virtualization is enabled in BIOS",
      };
}
