/** The flags and flow `run` and `deploy` share. */
import type { ArgsDef } from "citty";
import { readFileSync } from "node:fs";
import type { BuiltAppCompose } from "../../core/compose.ts";
import { mergeEnv, parseEnvArg, parseEnvFile } from "../../core/envfile.ts";
import { DstackError, UsageError } from "../../core/errors.ts";
import { formatJson } from "../../core/output.ts";
import { formatPortSpec, parsePortSpecs } from "../../core/ports.ts";
import { parseDisk, parseGpu, parseMemory, parseVcpu, selectGpus } from "../../core/resources.ts";
import { buildManifest, deploy, type DeployRequest, waitBoot } from "../../host/deploy.ts";
import { resolveEndpoint } from "../../host/endpoint.ts";
import { dryRunArgs, toList, negated } from "../shared/args.ts";
import { out } from "../shared/log.ts";
import { clientArgs, openClient, parseDuration, progressPrinter } from "./common.ts";

export const deployArgs = {
  name: { type: "string", alias: "n", description: "VM name (run: derived from the image; deploy: app)" },
  port: { type: "string", alias: "p", description: "Port mapping, repeatable: VM | HOST:VM | PROTO:HOST:VM | PROTO:ADDR:HOST:VM (HOST auto/0 = pick)", valueHint: "SPEC" },
  env: { type: "string", alias: "e", description: "Encrypted env var, repeatable: KEY=VALUE, or KEY to take it from your environment", valueHint: "KEY[=VALUE]" },
  "env-file": { type: "string", description: "Read KEY=VALUE lines (encrypted like -e)", valueHint: "FILE" },
  vcpu: { type: "string", default: "2", description: "vCPUs" },
  memory: { type: "string", default: "2048", description: "Memory: 2048 (MiB), 512MB, 2GB, 2GiB" },
  disk: { type: "string", default: "20", description: "Disk: 20 (GiB), 20GB" },
  gpu: { type: "string", description: "GPUs: all, a count, or MODEL:COUNT (e.g. H100:2)" },
  "guest-image": { type: "string", description: "Guest OS image (default: the install's image)" },
  image: { type: "string", description: "Alias of --guest-image (upstream `dstack deploy --image`)" },
  "no-kms": { type: "boolean", description: "No KMS: the app gets no keys, no env, no allowlist entry" },
  allowlist: { type: "string", description: "Allowlist file to register the compose hash in (default: the install's)", valueHint: "PATH" },
  detach: { type: "boolean", alias: "d", description: "Return after CreateVm; do not wait for the boot" },
  timeout: { type: "string", default: "120s", description: "How long to wait for the boot" },
  ...dryRunArgs,
  ...clientArgs,
} as const satisfies ArgsDef;

type A = Record<string, unknown> & { _: string[]; host?: string; token?: string; prefix?: string; allowlist?: string; quiet?: boolean; verbose?: boolean };

export interface Planned {
  req: Omit<DeployRequest, "allowlistPath" | "localVmm" | "gpus"> & { gpu?: string };
  built: BuiltAppCompose;
}

export function commonRequest(args: A, name: string, dockerCompose: string, ports: ReturnType<typeof parsePortSpecs>, image: string) {
  const envs = mergeEnv(
    ...(args["env-file"] ? [parseEnvFile(readEnvFile(String(args["env-file"])), String(args["env-file"]))] : []),
    toList(args.env).map((e) => parseEnvArg(e)),
  );
  const kms = !negated(args, "kms");
  return {
    name,
    dockerCompose,
    image,
    vcpu: parseVcpu(String(args.vcpu)),
    memoryMiB: parseMemory(String(args.memory)),
    diskGiB: parseDisk(String(args.disk)),
    ports,
    env: envs,
    kms,
  };
}

function readEnvFile(p: string): string {
  try {
    return readFileSync(p, "utf8");
  } catch (e) {
    throw new UsageError(`--env-file ${p}: ${(e as Error).message}`);
  }
}

export function guestImage(args: A, stateImage: string | undefined): string {
  const img = (args["guest-image"] as string | undefined) ?? (args.image as string | undefined) ?? stateImage;
  if (!img) throw new UsageError("an image is required to deploy: run `dstackup install` first, or pass --guest-image NAME");
  return img;
}

export async function runDeploy(args: A, make: (stateImage: string | undefined) => Promise<{ req: Omit<DeployRequest, "allowlistPath" | "localVmm" | "gpus"> }>): Promise<number> {
  const ep = resolveEndpoint(args);
  const { req } = await make(ep.image);
  const gpuSpec = args.gpu !== undefined ? parseGpu(String(args.gpu)) : undefined;
  const timeoutMs = parseDuration(String(args.timeout ?? "120s"), "--timeout");
  const built = buildManifest(req);
  const summary = {
    name: req.name,
    appId: built.appId,
    composeHash: built.composeHash,
    image: req.image,
    resources: { vcpu: req.vcpu, memoryMiB: req.memoryMiB, diskGiB: req.diskGiB, gpu: args.gpu ?? null },
    ports: req.ports.map((p) => formatPortSpec(p)),
    kms: req.kms,
    allowedEnvs: req.env.map((e) => e.key),
  };
  if (args["dry-run"]) {
    if (args.json) out(formatJson({ dryRun: true, ...summary, manifest: built.manifest, composeFile: built.composeFile }));
    else {
      out(
        [
          `dry run: nothing was registered or created`,
          `name:         ${summary.name}`,
          `app id:       ${summary.appId}`,
          `compose hash: ${summary.composeHash}`,
          `guest image:  ${summary.image}`,
          `resources:    ${req.vcpu} vCPU, ${req.memoryMiB} MiB, ${req.diskGiB} GiB${args.gpu ? `, gpu ${args.gpu}` : ""}`,
          `ports:        ${summary.ports.join(", ") || "none"}`,
          `kms:          ${req.kms ? `yes (hash would be registered in ${ep.allowlistPath})` : "no (--no-kms)"}`,
          `env (names):  ${summary.allowedEnvs.join(", ") || "none"}`,
          `app-compose.json:`,
          built.composeFile,
        ].join("\n"),
      );
    }
    return 0;
  }
  const { c } = await openClient(args);
  const pr = progressPrinter(args.quiet === true || args.json === true);
  try {
    const gpus = gpuSpec ? (selectGpus(gpuSpec, (await c.listGpus()).gpus) ?? null) : null;
    const host = ep.host;
    const localVmm = host.startsWith("unix:") || /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(host);
    const res = await deploy(c, { ...req, gpus, allowlistPath: ep.allowlistPath, localVmm }, built, pr.line);
    pr.line(`created VM ${res.vmId}`);
    let booted: Awaited<ReturnType<typeof waitBoot>> | undefined;
    if (!args.detach) booted = await waitBoot(c, res.vmId, timeoutMs, (m) => pr.line(`${res.name}: ${m}`));
    pr.done();
    const result = { ...res, status: booted ? (booted.ok ? "running" : "failed") : "created", reason: booted && !booted.ok ? booted.reason : null, instanceId: booted?.vm?.instance_id ?? null };
    if (args.json) out(formatJson(result));
    else {
      const lines = [`vm:           ${res.vmId}`, `name:         ${res.name}`, `app id:       ${res.appId}`, `compose hash: ${res.composeHash}`];
      for (const p of res.ports) lines.push(`port:         ${p.url}  (→ ${p.vm_port} in the CVM)`);
      if (res.encryptedEnv.length) lines.push(`env:          ${res.encryptedEnv.join(", ")} (encrypted for this app)`);
      lines.push(booted ? (booted.ok ? `status:       running (boot done, instance ${booted.vm.instance_id})` : `status:       boot failed`) : `status:       created (--detach: not waiting; follow with \`dstack logs -f ${res.name}\`)`);
      out(lines.join("\n"));
    }
    if (booted && !booted.ok) {
      throw new DstackError(`${res.name} did not boot: ${booted.reason}`, 1, { hint: `dstack logs ${res.name}` });
    }
    return 0;
  } finally {
    pr.done();
    c.close();
  }
}
