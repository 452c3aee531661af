/**
 * Everything an install renders is a function of these settings. Pure data;
 * dstackup derives it from flags + the layout, then renders files from it.
 */
import type { SimRuntime } from "../specs/sim-runtime.ts";

export type Platform = "tdx" | "amd-sev-snp";

export interface HostConfig {
  platform: Platform;
  simulate: boolean;
  /** Paths (from the layout). */
  configDir: string;
  stateDir: string;
  runDir: string;
  imageDir: string;
  vmDir: string;
  allowlistPath: string;
  vmmConfig: string;
  tokenPath: string;
  /** Binaries. */
  vmmBin: string;
  authBin: string;
  supervisorBin: string;
  qemuPath: string;
  /** Ports. */
  dashboardPort: number;
  authPort: number;
  /** 0 with --no-kms */
  kmsPort: number;
  hostApiPort: number;
  keyProviderAddress: string;
  keyProviderPort: number;
  cidStart: number;
  cidPoolSize: number;
  token: string;
  /** --simulate: the container engine that runs the apps (vmm.toml [simulator]) */
  simRuntime?: SimRuntime;
}

export const KMS_GUEST_HOST = "10.0.2.2";

/** The KMS URL guests use (the host as seen from a user-mode guest). */
export function kmsUrlFor(cfg: Pick<HostConfig, "kmsPort">): string {
  return cfg.kmsPort ? `https://${KMS_GUEST_HOST}:${cfg.kmsPort}` : "";
}

/** Where the VMM itself (on the host) reaches the KMS: the CVM's forwarded port; "" with --no-kms. */
export function kmsHostUrlFor(cfg: Pick<HostConfig, "kmsPort">): string {
  return cfg.kmsPort ? `https://127.0.0.1:${cfg.kmsPort}` : "";
}

export function clientUrlFor(cfg: Pick<HostConfig, "dashboardPort">): string {
  return `http://127.0.0.1:${cfg.dashboardPort}`;
}
