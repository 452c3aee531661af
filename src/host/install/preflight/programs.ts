/** Preflight checks of the programs the install runs: qemu, dstack-vmm and supervisor (or their build), the key provider's docker. */
import { accessSync, constants, existsSync } from "node:fs";
import { which } from "../../runner.ts";
import { buildToolPath, coreDir } from "../build-source.ts";
import type { CheckResult } from "./result.ts";

function checkExecutable(name: string, label: string, path: string, fix: string): CheckResult {
  try {
    accessSync(path, constants.X_OK);
    return { name, ok: true, detail: `${label}: ${path}` };
  } catch {
    return { name, ok: false, detail: `${label} not found or not executable: ${path}`, fix };
  }
}

export function checkQemu(path: string): CheckResult {
  return checkExecutable("qemu", "qemu", path, "install qemu-system-x86_64 (apt-get install qemu-system-x86), or pass --qemu PATH");
}

export interface BinariesFacts {
  simulate: boolean;
  /** The dstack-vmm and supervisor to check (from --vmm-bin/--supervisor-bin, the bundle, or the layout). */
  vmm: string;
  supervisor: string;
  /** --vmm-bin and --supervisor-bin as given. */
  vmmFlag: string | undefined;
  supervisorFlag: string | undefined;
  /** --build-from-source: they are built, not looked for. */
  buildFromSource?: { source?: string | undefined; repo: string; ref: string } | undefined;
}

/** dstack-vmm and supervisor: there and executable, or buildable. A simulated host needs neither (none unless asked for). */
export function checkBinaries(f: BinariesFacts): CheckResult | undefined {
  const given = [f.vmmFlag && `--vmm-bin ${f.vmmFlag}`, f.supervisorFlag && `--supervisor-bin ${f.supervisorFlag}`].filter(Boolean);
  if (f.simulate) {
    if (!given.length) return undefined;
    return {
      name: "binaries",
      ok: false,
      detail: `${given.join(" and ")}: not used with --simulate (the simulated VMM is this program)`,
      fix: "leave out --vmm-bin/--supervisor-bin, or leave out --simulate to run the real dstack-vmm",
    };
  }
  if (f.buildFromSource && given.length) {
    return {
      name: "binaries",
      ok: false,
      detail: `${given.join(" and ")} with --build-from-source, which builds them`,
      fix: "leave out --build-from-source to run the given binaries, or leave out --vmm-bin/--supervisor-bin to build them",
    };
  }
  if (f.buildFromSource) {
    // The PATH the build will run with (the sudo user's ~/.cargo/bin first): what is found here is what runs.
    const missing = ["git", "cargo"].filter((t) => !which(t, buildToolPath()));
    const src = f.buildFromSource.source;
    if (missing.length) {
      return {
        name: "binaries",
        ok: false,
        detail: `--build-from-source needs ${missing.join(" and ")}`,
        fix: "install git and Rust (rustup) for the build user, or pass --vmm-bin/--supervisor-bin",
      };
    }
    if (src !== undefined && !coreDir(src)) {
      return {
        name: "binaries",
        ok: false,
        detail: `--source ${src} is not a dstack source checkout (no Cargo.toml with vmm/ and supervisor/)`,
        fix: "point --source at a clone of Dstack-TEE/dstack, or leave it out to clone into the cache",
      };
    }
    return {
      name: "binaries",
      ok: true,
      detail: `dstack-vmm and supervisor will be built from ${src ?? `${f.buildFromSource.repo} (${f.buildFromSource.ref})`}`,
    };
  }
  const fix =
    "build dstack-vmm and supervisor from Dstack-TEE/dstack (cargo build --release -p dstack-vmm -p supervisor) and pass --vmm-bin/--supervisor-bin, or use an offline bundle";
  const vmm = checkExecutable("binaries", "dstack-vmm", f.vmm, fix);
  return vmm.ok ? checkExecutable("binaries", "supervisor", f.supervisor, fix) : vmm;
}

export interface KeyProviderFacts {
  /** Where the key provider's source is taken from (--key-provider-src, the bundle, or the share dir). */
  src: string;
  /** Its docker-compose.yaml, as found (in the unpacked bundle when it comes from one). */
  compose: string;
  project: string;
}

/** Our own local key provider (TDX with the KMS): its compose file and docker must be there. */
export function checkKeyProvider(f: KeyProviderFacts): CheckResult {
  if (!existsSync(f.compose)) {
    return {
      name: "key-provider",
      ok: false,
      detail: `no key provider: ${f.compose} does not exist`,
      fix: "pass --use-existing-key-provider ADDR:PORT, or --key-provider-src DIR to run our own",
    };
  }
  if (!which("docker")) {
    return {
      name: "key-provider",
      ok: false,
      detail: "docker is not installed (needed to run the local key provider)",
      fix: "install docker, or pass --use-existing-key-provider ADDR:PORT",
    };
  }
  return { name: "key-provider", ok: true, detail: `own, from ${f.src} (docker compose project ${f.project})` };
}
