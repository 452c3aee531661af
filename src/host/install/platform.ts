/** TEE platform detection from /proc/cpuinfo and device nodes (Dstack-TEE/dstack: dstack/crates/dstack-cli-core/src/host.rs). */
import { existsSync, readFileSync } from "node:fs";
import type { Platform } from "../../core/render/host-config.ts";

export function detectPlatform(cpuinfoPath = "/proc/cpuinfo"): Platform | undefined {
  let text = "";
  try {
    text = readFileSync(cpuinfoPath, "utf8");
  } catch {
    return undefined;
  }
  const flags = new Set(
    text
      .split("\n")
      .filter((l) => l.startsWith("flags"))
      .flatMap((l) => l.split(":")[1]?.trim().split(/\s+/) ?? []),
  );
  if (flags.has("sev_snp")) return "amd-sev-snp";
  if (flags.has("tdx_host_platform")) return "tdx";
  return undefined;
}

export function parsePlatformFlag(v: string): Platform | "auto" | undefined {
  switch (v) {
    case "auto":
      return "auto";
    case "tdx":
      return "tdx";
    case "amd-sev-snp":
    case "sev-snp":
    case "snp":
      return "amd-sev-snp";
    default:
      return undefined;
  }
}

/** Device nodes a platform needs; returns the missing ones. */
export function missingDevices(platform: Platform, devRoot = "/dev"): string[] {
  const need = platform === "tdx" ? ["sgx_enclave", "sgx_provision"] : ["sev"];
  return need.map((d) => `${devRoot}/${d}`).filter((p) => !existsSync(p));
}
