/**
 * Other dstack VMMs on this host (Dstack-TEE/dstack: dstack/crates/dstack-cli-core/src/host.rs): scan /proc for
 * dstack-vmm processes, read their configs with a TOML parser, and collect
 * the CID windows and host-api vsock ports they hold. Our own VMM (the one
 * running our vmm.toml) is excluded, so a re-run never trips over itself
 * (an upstream defect: a re-run trips over its own VMM).
 */
import { readdirSync, readFileSync, realpathSync } from "node:fs";
import { basename, isAbsolute, resolve } from "node:path";
import { parseToml } from "../../core/render/toml.ts";
import type { CidRange } from "../../core/specs/cid.ts";

export interface OtherVmm {
  pid: number;
  config: string | undefined;
  cidRange: CidRange | undefined;
  hostApiPort: number | undefined;
}

export interface Coexistence {
  vmms: OtherVmm[];
  cidRanges: CidRange[];
  hostApiPorts: number[];
}

function safeReal(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

function readArgv(procRoot: string, pid: string): string[] | undefined {
  try {
    return readFileSync(`${procRoot}/${pid}/cmdline`, "utf8")
      .split("\0")
      .filter((s) => s !== "");
  } catch {
    return undefined;
  }
}

function cwdOf(procRoot: string, pid: string): string | undefined {
  try {
    return realpathSync(`${procRoot}/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

function configArg(argv: string[]): string | undefined {
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if ((a === "-c" || a === "--config") && argv[i + 1]) return argv[i + 1];
    if (a.startsWith("--config=")) return a.slice(9);
  }
  return undefined;
}

const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isInteger(v) ? v : undefined);

export function scanCoexistence(ownConfig: string, procRoot = "/proc"): Coexistence {
  const own = safeReal(ownConfig);
  const vmms: OtherVmm[] = [];
  const cidRanges: CidRange[] = [];
  let pids: string[] = [];
  try {
    pids = readdirSync(procRoot).filter((d) => /^\d+$/.test(d));
  } catch {
    pids = [];
  }
  for (const pid of pids) {
    const argv = readArgv(procRoot, pid);
    if (!argv || argv.length === 0) continue;
    for (const tok of argv.flatMap((a) => a.split(/[ ,]/))) {
      const m = /^guest-cid=(\d+)$/.exec(tok);
      if (m) cidRanges.push([Number(m[1]), Number(m[1]) + 1]);
    }
    if (basename(argv[0]!) !== "dstack-vmm") continue;
    let cfgPath = configArg(argv);
    if (cfgPath && !isAbsolute(cfgPath)) cfgPath = resolve(cwdOf(procRoot, pid) ?? "/", cfgPath);
    if (cfgPath && safeReal(cfgPath) === own) continue;
    const vmm: OtherVmm = { pid: Number(pid), config: cfgPath, cidRange: undefined, hostApiPort: undefined };
    let start = 1000;
    let size = 1000;
    if (cfgPath) {
      try {
        const t = parseToml(readFileSync(cfgPath, "utf8"), cfgPath) as Record<string, Record<string, unknown> | undefined>;
        start = num(t.cvm?.cid_start) ?? start;
        size = num(t.cvm?.cid_pool_size) ?? size;
        vmm.hostApiPort = num(t.host_api?.port) ?? 10000;
      } catch {
        /* unreadable config: assume the defaults it would run with */
        vmm.hostApiPort = 10000;
      }
    } else {
      vmm.hostApiPort = 10000;
    }
    vmm.cidRange = [start, start + size];
    cidRanges.push(vmm.cidRange);
    vmms.push(vmm);
  }
  const hostApiPorts = [...new Set(vmms.map((v) => v.hostApiPort).filter((p): p is number => p !== undefined))].sort((a, b) => a - b);
  return { vmms, cidRanges, hostApiPorts };
}
