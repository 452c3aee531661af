/**
 * `dstack run` / `dstack deploy` flags → a deploy plan (pure: no files read,
 * no network). The caller hands in the text of --env-file and of the compose
 * file and the environment used for `-e KEY`; the plan holds the manifest,
 * its compose hash and app id, the resources, the port specs and the env
 * (names go into `allowed_envs`; values are encrypted later, never printed).
 */

import type { EnvVar } from "../env/envcrypt.ts";
import { mergeEnv, parseEnvArg, parseEnvFile } from "../env/envfile.ts";
import { UsageError } from "../errors.ts";
import { formatPortSpec, type PortSpec, parsePortSpecs } from "../specs/ports.ts";
import { type GpuSpec, parseDisk, parseGpu, parseMemory, parseVcpu } from "../specs/resources.ts";
import { nameFromImage } from "../vmm/vm-select.ts";
import { type BuiltAppCompose, buildAppCompose } from "./app-compose.ts";
import { checkImageRef, composeFromImage } from "./image-compose.ts";
import { checkAppName, checkVisibleName } from "./names.ts";

export const DEFAULTS = { vcpu: "2", memory: "2048", disk: "20", timeout: "120s" } as const;

export type DeploySource = { kind: "image"; image: string; command?: string[] } | { kind: "compose"; text: string; label: string };

export interface DeployFlags {
  name?: string | undefined;
  port?: string[];
  env?: string[];
  /** the --env-file path and its text */
  envFile?: { path: string; text: string } | undefined;
  vcpu?: string | undefined;
  memory?: string | undefined;
  disk?: string | undefined;
  gpu?: string | undefined;
  /** --guest-image (or upstream's --image) */
  guestImage?: string | undefined;
  kms?: boolean;
  timeout?: string | undefined;
}

export interface DeployPlan {
  name: string;
  guestImage: string;
  vcpu: number;
  memoryMiB: number;
  diskGiB: number;
  gpu: GpuSpec | undefined;
  gpuText: string | undefined;
  ports: PortSpec[];
  env: EnvVar[];
  kms: boolean;
  timeoutMs: number;
  dockerCompose: string;
  built: BuiltAppCompose;
}

/** 90 | 90s | 2m | 500ms → milliseconds; anything else is a usage error naming the flag. */
export function parseDuration(v: string, flag = "--timeout"): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(v.trim());
  if (!m) throw new UsageError(`${flag} ${JSON.stringify(v)}: expected a duration such as 90, 90s, 2m or 500ms`);
  const n = Number(m[1]);
  return m[2] === "ms" ? n : m[2] === "m" ? n * 60_000 : n * 1000;
}

/** Validate every flag (a usage error names the one at fault) and build the manifest. */
export function planDeploy(
  src: DeploySource,
  f: DeployFlags,
  environ: Record<string, string | undefined>,
  installImage: string | undefined,
): DeployPlan {
  if (src.kind === "image") checkImageRef(src.image);
  if (f.name !== undefined) {
    checkAppName(f.name, "--name");
    checkVisibleName(f.name, "--name");
  }
  const ports = parsePortSpecs(f.port ?? []);
  const vcpu = parseVcpu(f.vcpu ?? DEFAULTS.vcpu);
  const memoryMiB = parseMemory(f.memory ?? DEFAULTS.memory);
  const diskGiB = parseDisk(f.disk ?? DEFAULTS.disk);
  const gpu = f.gpu !== undefined ? parseGpu(f.gpu) : undefined;
  const timeoutMs = parseDuration(f.timeout ?? DEFAULTS.timeout, "--timeout");
  if (timeoutMs < 1000)
    throw new UsageError(`--timeout ${f.timeout}: a boot takes longer than that; give at least 1s (or --detach not to wait)`);
  const env = mergeEnv(
    f.envFile ? parseEnvFile(f.envFile.text, f.envFile.path, environ) : [],
    (f.env ?? []).map((e) => parseEnvArg(e, environ)),
  );
  const kms = f.kms !== false;
  if (!kms && env.length) throw new UsageError("encrypted env (-e KEY=VALUE / --env-file) needs the KMS: drop --no-kms or the env");
  const guestImage = f.guestImage ?? installImage;
  if (!guestImage) throw new UsageError("an image is required to deploy: run `dstackup install` first, or pass --guest-image NAME");
  const name = f.name ?? (src.kind === "image" ? nameFromImage(src.image) : "app");
  const dockerCompose =
    src.kind === "compose"
      ? src.text
      : composeFromImage({
          image: src.image,
          ports: ports.map((p) => ({ vmPort: p.vmPort, protocol: p.protocol })),
          env: env.map((e) => e.key),
          ...(src.command?.length ? { command: src.command } : {}),
        });
  const built = buildAppCompose({ name, dockerCompose, kms, allowedEnvs: env.map((e) => e.key) });
  return { name, guestImage, vcpu, memoryMiB, diskGiB, gpu, gpuText: f.gpu, ports, env, kms, timeoutMs, dockerCompose, built };
}

/** What --dry-run shows (env names only: values never leave the plan). */
export function planSummary(p: DeployPlan) {
  return {
    name: p.name,
    appId: p.built.appId,
    composeHash: p.built.composeHash,
    image: p.guestImage,
    resources: { vcpu: p.vcpu, memoryMiB: p.memoryMiB, diskGiB: p.diskGiB, gpu: p.gpuText ?? null },
    ports: p.ports.map((x) => formatPortSpec(x)),
    kms: p.kms,
    allowedEnvs: p.env.map((e) => e.key),
  };
}

/** The human --dry-run text. */
export function formatPlan(p: DeployPlan, allowlistPath: string): string {
  const s = planSummary(p);
  return [
    `dry run: nothing was registered or created`,
    `name:         ${s.name}`,
    `app id:       ${s.appId}`,
    `compose hash: ${s.composeHash}`,
    `guest image:  ${s.image}`,
    `resources:    ${p.vcpu} vCPU, ${p.memoryMiB} MiB, ${p.diskGiB} GiB${p.gpuText ? `, gpu ${p.gpuText}` : ""}`,
    `ports:        ${s.ports.join(", ") || "none"}`,
    `kms:          ${p.kms ? `yes (hash would be registered in ${allowlistPath})` : "no (--no-kms)"}`,
    `env (names):  ${s.allowedEnvs.join(", ") || "none"}`,
    `app-compose.json:`,
    p.built.composeFile,
  ].join("\n");
}
