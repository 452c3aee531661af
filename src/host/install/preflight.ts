/**
 * Named preflight checks (kubeadm style). Every check runs before the first
 * side effect; failures can be demoted with --ignore-preflight-errors.
 */
import { accessSync, constants, existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DstackError } from "../../core/errors.ts";
import type { Platform } from "../../core/render/host-config.ts";
import type { CidRange } from "../../core/specs/cid.ts";
import { pickCidStart } from "../../core/specs/cid.ts";
import { isPortFree } from "../free-port.ts";
import { missingDevices } from "./platform.ts";

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
  /** What to do about a failure. */
  fix?: string;
  /** A failure that --ignore-preflight-errors demoted to a warning. */
  ignored?: boolean;
  /** Not an error at all, only worth a mention. */
  warning?: boolean;
}

export const CHECK_NAMES = [
  "service-manager",
  "root",
  "prefix",
  "platform",
  "kvm",
  "qemu",
  "binaries",
  "ports",
  "cids",
  "host-api",
  "image",
  "key-provider",
  "allowlist",
] as const;

export function parseIgnoreList(v: string | undefined): Set<string> {
  const set = new Set<string>();
  for (const s of (v ?? "")
    .split(",")
    .map((x) => x.trim().toLowerCase())
    .filter(Boolean))
    set.add(s);
  for (const s of set) {
    if (s !== "all" && !(CHECK_NAMES as readonly string[]).includes(s)) {
      throw new DstackError(`--ignore-preflight-errors: unknown check "${s}" (checks: ${CHECK_NAMES.join(", ")}, or all)`, 2);
    }
  }
  return set;
}

export function applyIgnores(results: CheckResult[], ignore: Set<string>): CheckResult[] {
  return results.map((r) => (!r.ok && !r.warning && (ignore.has("all") || ignore.has(r.name)) ? { ...r, ignored: true } : r));
}

export function blocking(results: CheckResult[]): CheckResult[] {
  return results.filter((r) => !r.ok && !r.ignored && !r.warning);
}

export function formatCheck(r: CheckResult): string {
  const tag = r.warning ? "[!]   " : r.ok ? "[ok]  " : r.ignored ? "[skip]" : "[fail]";
  let s = `  ${tag} ${r.name}: ${r.detail}`;
  if (!r.ok && r.fix) s += `\n         fix: ${r.fix}`;
  if (r.ignored) s += `\n         (ignored by --ignore-preflight-errors)`;
  return s;
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

/** The nearest existing ancestor of `dir` must be writable. */
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

export function checkExecutable(name: string, label: string, path: string, fix: string): CheckResult {
  try {
    accessSync(path, constants.X_OK);
    return { name, ok: true, detail: `${label}: ${path}` };
  } catch {
    return { name, ok: false, detail: `${label} not found or not executable: ${path}`, fix };
  }
}

export interface PortEntry {
  what: string;
  flag: string;
  address: string;
  port: number;
  /** Already served by this install (re-run): skip the bind test. */
  owned: boolean;
}

const overlapAddr = (a: string, b: string) => a === b || a === "0.0.0.0" || b === "0.0.0.0" || a === "::" || b === "::";

export async function checkPorts(entries: PortEntry[]): Promise<CheckResult> {
  for (const e of entries) {
    if (!Number.isInteger(e.port) || e.port < 1 || e.port > 65535) {
      return { name: "ports", ok: false, detail: `${e.flag} must be between 1 and 65535 (got ${e.port})`, fix: `pass ${e.flag} PORT` };
    }
  }
  for (let i = 0; i < entries.length; i++) {
    for (let j = i + 1; j < entries.length; j++) {
      const a = entries[i]!;
      const b = entries[j]!;
      if (a.port === b.port && overlapAddr(a.address, b.address)) {
        const addr = a.address === b.address ? a.address : `${a.address}/${b.address}`;
        return { name: "ports", ok: false, detail: `${a.flag} and ${b.flag} both use ${addr}:${a.port}`, fix: "choose distinct ports" };
      }
    }
  }
  const busy: string[] = [];
  for (const e of entries) {
    if (e.owned) continue;
    if (!(await isPortFree("tcp", e.address, e.port)))
      busy.push(`${e.what} port ${e.address}:${e.port} is already in use; pass ${e.flag} <free-port>`);
  }
  if (busy.length)
    return { name: "ports", ok: false, detail: busy.join("; "), fix: "stop what listens there (`ss -ltnp`) or pick other ports" };
  const list = entries.map((e) => `${e.what} ${e.port}${e.owned ? " (ours)" : ""}`).join(", ");
  return { name: "ports", ok: true, detail: list };
}

export function checkCids(occupied: CidRange[], explicit: number | undefined, poolSize: number): { result: CheckResult; start: number } {
  try {
    const { start, moved } = pickCidStart(occupied, poolSize, explicit);
    return {
      start,
      result: {
        name: "cids",
        ok: true,
        detail: `cid-start ${start}${moved ? " (avoids CIDs already reserved by another VMM)" : ""}, pool ${poolSize}`,
      },
    };
  } catch (e) {
    const err = e as DstackError;
    return { start: explicit ?? 1000, result: { name: "cids", ok: false, detail: err.message, fix: err.hint ?? "" } };
  }
}

export function checkHostApi(port: number, taken: number[]): CheckResult {
  return taken.includes(port)
    ? {
        name: "host-api",
        ok: false,
        detail: `host-api vsock port ${port} is already reserved by another dstack-vmm`,
        fix: `pass --host-api-port ${Math.max(...taken) + 1}`,
      }
    : { name: "host-api", ok: true, detail: `vsock port ${port}` };
}

/** Make sure a directory exists (used only after preflight). */
export function ensureDir(p: string, mode = 0o755): void {
  mkdirSync(p, { recursive: true, mode });
}
