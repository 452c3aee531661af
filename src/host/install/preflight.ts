/**
 * The install preflight (kubeadm style): every check, named, in the order it runs. All run
 * before the first side effect; a failure can be demoted with --ignore-preflight-errors.
 * planInstall gathers the facts they judge; the checks themselves are in preflight/.
 */
import { type DstackError, UsageError } from "../../core/errors.ts";
import type { Platform } from "../../core/render/host-config.ts";
import {
  checkKvm,
  checkPlatform,
  checkPrefixWritable,
  checkRoot,
  checkServiceManager,
  type ServiceManagerFacts,
} from "./preflight/host.ts";
import { checkAllowlist, checkImage, checkState, type ImageChoice } from "./preflight/inputs.ts";
import { type CidChoice, checkCids, checkHostApi, checkPorts, type PortEntry } from "./preflight/network.ts";
import { type BinariesFacts, checkBinaries, checkKeyProvider, checkQemu, type KeyProviderFacts } from "./preflight/programs.ts";
import type { CheckResult } from "./preflight/result.ts";
import { checkRuntime, type RuntimeFacts } from "./preflight/runtime.ts";

/** What planInstall found out, for the checks to judge. */
export interface PreflightFacts {
  simulate: boolean;
  serviceManager: ServiceManagerFacts;
  /** The platform asked for and the one found (not looked for with --simulate). */
  platform: { requested: string; detected: Platform | undefined } | undefined;
  /** Where /dev is (tests point it elsewhere). */
  devRoot: string | undefined;
  qemu: string;
  /** --simulate: the container engine for the apps. */
  runtime: RuntimeFacts | undefined;
  /** The directories the install writes into. */
  installDirs: string[];
  binaries: BinariesFacts;
  /** Only when we run our own key provider (TDX with the KMS). */
  keyProvider: KeyProviderFacts | undefined;
  ports: PortEntry[];
  cids: CidChoice;
  /** Only with the KMS (its CVM talks to the host API). */
  hostApi: { port: number; taken: number[] } | undefined;
  /** The state file, whether it is there, and why it could not be read. */
  state: { path: string; exists: boolean; problem: DstackError | undefined };
  allowlistPath: string;
  image: ImageChoice;
}

type Check = (f: PreflightFacts) => CheckResult | undefined | Promise<CheckResult>;

/** Every check, in the order it runs. undefined: it does not apply to this install. */
const PREFLIGHT = {
  "service-manager": (f) => checkServiceManager(f.serviceManager, f.simulate),
  root: (f) => checkRoot(f.simulate),
  platform: (f) => (f.platform ? checkPlatform(f.platform.detected, f.platform.requested, f.devRoot) : undefined),
  kvm: (f) => (f.simulate ? undefined : checkKvm(f.devRoot)),
  qemu: (f) => (f.simulate ? undefined : checkQemu(f.qemu)),
  runtime: (f) => (f.runtime ? checkRuntime(f.runtime) : undefined),
  prefix: (f) => checkPrefixWritable(f.installDirs),
  binaries: (f) => checkBinaries(f.binaries),
  "key-provider": (f) => (f.keyProvider ? checkKeyProvider(f.keyProvider) : undefined),
  ports: (f) => checkPorts(f.ports),
  cids: (f) => checkCids(f.cids),
  "host-api": (f) => (f.hostApi ? checkHostApi(f.hostApi.port, f.hostApi.taken) : undefined),
  state: (f) => checkState(f.state.path, f.state.problem, f.state.exists),
  allowlist: (f) => checkAllowlist(f.allowlistPath),
  image: (f) => checkImage(f.image),
} satisfies Record<string, Check>;

export const CHECK_NAMES = Object.keys(PREFLIGHT);

/** Run every check that applies, in order, demoting the failures `ignore` names. */
export async function runPreflight(f: PreflightFacts, ignore: Set<string>): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const check of Object.values(PREFLIGHT) as Check[]) {
    const r = await check(f);
    if (r) results.push(r);
  }
  return applyIgnores(results, ignore);
}

export function parseIgnoreList(v: string | undefined): Set<string> {
  const set = new Set<string>();
  for (const s of (v ?? "")
    .split(",")
    .map((x) => x.trim().toLowerCase())
    .filter(Boolean))
    set.add(s);
  for (const s of set) {
    if (s !== "all" && !CHECK_NAMES.includes(s)) {
      throw new UsageError(`--ignore-preflight-errors: unknown check "${s}" (checks: ${CHECK_NAMES.join(", ")}, or all)`);
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
