/**
 * A parsed `.dstack.yml` run → what the CVM runs (pure): the generated
 * docker-compose and its app-compose (compose hash, app id), the CVM's size,
 * the ports to map, and the sealed env (values only here, names in the
 * manifest). Client-side interpolation happens here as dstackai does it:
 * `${{ run.args }}` in commands, `${{ env.X }}` in registry_auth and probes,
 * `${{ secrets.X }}` in env values and registry_auth.
 */
import { type BuiltAppCompose, buildAppCompose } from "../compose/app-compose.ts";
import { devRun } from "../dev-env/dev-run.ts";
import { containerCommand } from "../dstack-yml/command-line.ts";
import type { RunConfiguration } from "../dstack-yml/configuration.ts";
import { defaultImage } from "../dstack-yml/default-image.ts";
import { GrammarError } from "../dstack-yml/forms/grammar-error.ts";
import { interpolate } from "../dstack-yml/forms/interpolate.ts";
import { shlexJoin } from "../dstack-yml/forms/shlex.ts";
import { formatResources } from "../dstack-yml/resources/resources.ts";
import type { EnvVar } from "../env/envcrypt.ts";
import { UsageError } from "../errors.ts";
import { sha256Hex } from "../hash.ts";
import { buildFilesArchive, type ResolvedFiles } from "./files/files-archive.ts";
import { runCompose } from "./run-compose.ts";
import { describeRun, runJson } from "./run-description.ts";
import { type ChosenResources, chooseResources } from "./sizing.ts";

/** The registry login the CVM's guest performs before pulling (sealed env, like any secret). */
export const REGISTRY_ENV = {
  registry: "DSTACK_DOCKER_REGISTRY",
  username: "DSTACK_DOCKER_USERNAME",
  password: "DSTACK_DOCKER_PASSWORD",
} as const;

/** dstackai's default image WORKDIR, used with ours. */
export const DEFAULT_WORKING_DIR = "/dstack/run";
const DEFAULT_STOP_SECONDS = 300;

export interface RunPlanInput {
  config: RunConfiguration;
  /** the configuration path as shown (relative, or `-`) */
  configPath: string;
  name: string;
  /** the run's env after -e and the caller's environment (src/core/dstack-yml/forms/env.ts resolveEnv) */
  env: Map<string, string>;
  /** the client's secrets, for `${{ secrets.X }}` */
  secrets: Record<string, string>;
  /** positional arguments after `--`, for `${{ run.args }}` */
  runArgs: string[];
  files: ResolvedFiles[];
  /** the OpenSSH public keys allowed to log in, one a line: required for a dev environment, sealed into it */
  sshAuthorizedKeys?: string;
}

export interface RunPlan {
  name: string;
  type: RunConfiguration["type"];
  configPath: string;
  config: RunConfiguration;
  /** the requirements form, `cpu=2.. mem=8GB.. …` */
  requirements: string;
  chosen: ChosenResources;
  image: string;
  /** host (local) port → the CVM's port; null local = pick a free one */
  ports: { localPort: number | null; vmPort: number }[];
  /** sealed values; only names reach the manifest */
  env: EnvVar[];
  files: { count: number; bytes: number };
  dockerCompose: string;
  built: BuiltAppCompose;
}

function interp(text: string, vars: Record<string, string>, where: string, passThrough: readonly string[] = []): string {
  try {
    return interpolate(text, vars, passThrough);
  } catch (e) {
    if (e instanceof GrammarError) throw new UsageError(`${where}: ${e.message}`);
    throw e;
  }
}

function prefixed(ns: string, m: Map<string, string> | Record<string, string>): Record<string, string> {
  const entries = m instanceof Map ? [...m] : Object.entries(m);
  return Object.fromEntries(entries.map(([k, v]) => [`${ns}.${k}`, v]));
}

function registryOf(image: string): string {
  const first = image.split("/")[0]!;
  return image.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost") ? first : "docker.io";
}

function volumeName(instancePath: string): string {
  const slug = instancePath.replace(/[^a-zA-Z0-9]+/g, "-").replace(/^-|-$/g, "") || "root";
  const h = sha256Hex(instancePath).slice(0, 8);
  return `iv-${slug.slice(0, 40)}-${h}`;
}

export function planRun(i: RunPlanInput): RunPlan {
  const c = i.config;
  const secrets = prefixed("secrets", i.secrets);
  const env: EnvVar[] = [];
  for (const [k, v] of i.env) env.push({ key: k, value: interp(v, secrets, `env.${k}`) });
  const image = c.image ?? defaultImage(c.python);
  if (c.registryAuth) {
    const vars = { ...prefixed("env", i.env), ...secrets };
    env.push(
      { key: REGISTRY_ENV.registry, value: registryOf(image) },
      { key: REGISTRY_ENV.username, value: interp(c.registryAuth.username, vars, "registry_auth.username") },
      { key: REGISTRY_ENV.password, value: interp(c.registryAuth.password, vars, "registry_auth.password") },
    );
  }
  if (c.type === "service") {
    // checked here as dstackai does before its plan; the client fills them in when it probes (the manifest keeps the ${{ }})
    const vars = prefixed("env", i.env);
    for (const [n, p] of (c.probes ?? []).entries()) {
      interp(p.url, vars, `probes[${n}].url`);
      for (const [m, h] of p.headers.entries()) interp(h.value, vars, `probes[${n}].headers[${m}].value`);
      if (p.body !== undefined) interp(p.body, vars, `probes[${n}].body`);
    }
  }
  const args = { "run.args": shlexJoin(i.runArgs) };
  const dev =
    c.type === "dev-environment"
      ? devRun(c, {
          init: c.init.map((x, n) => interp(x, args, `init[${n}]`, ["secrets", "groups"])),
          shell: c.shell ?? (c.image === undefined ? "/bin/bash" : "/bin/sh"),
          authorizedKeys: i.sshAuthorizedKeys,
        })
      : undefined;
  if (dev && i.env.has(dev.sealed.key)) throw new UsageError(`env: ${dev.sealed.key} is the dev environment's own (its SSH keys)`);
  if (dev) env.push(dev.sealed);
  const commands = c.type === "dev-environment" ? [] : c.commands.map((x, n) => interp(x, args, `commands[${n}]`, ["secrets", "groups"]));
  const cmd = containerCommand({
    commands,
    ...(c.entrypoint !== undefined ? { entrypoint: c.entrypoint } : {}),
    ...(c.shell ? { shell: c.shell } : {}),
    ...(c.image ? { image: c.image } : {}),
  });
  const argv = dev?.argv ?? (cmd.entrypoint ? [...cmd.entrypoint, ...(cmd.command ?? [])] : undefined);
  const workingDir = c.workingDir?.replace(/^~(?=\/|$)/, "/root") ?? (c.image === undefined ? DEFAULT_WORKING_DIR : undefined);
  const archive = buildFilesArchive(i.files, workingDir);
  const repo = c.repos[0];
  // A local repo arrives in i.files (the client reads it like files); a git URL is cloned at start, pinned.
  if (repo?.url && !repo.hash) {
    throw new UsageError(`repos: ${repo.url}: pin a commit with hash: so the compose hash measures the code the run clones`);
  }
  const maxDuration = typeof c.maxDuration === "number" ? c.maxDuration : undefined;
  if (!argv && (archive.files > 0 || repo?.url || maxDuration !== undefined)) {
    throw new UsageError(
      "files, repos and max_duration need commands or entrypoint: the run's start script applies them before the command line",
    );
  }
  const chosen = chooseResources(c.resources);
  const ports =
    c.type === "dev-environment"
      ? dev!.ports
      : c.type === "task"
        ? c.ports.map((p) => ({ localPort: p.localPort, vmPort: p.containerPort }))
        : [{ localPort: c.port.localPort === 80 ? null : c.port.localPort, vmPort: c.port.containerPort }];
  const literalEnv: [string, string][] = [
    ["DSTACK_RUN_NAME", i.name],
    ["DSTACK_NODES_NUM", "1"],
    ["DSTACK_NODE_RANK", "0"],
    ["DSTACK_GPUS_NUM", String(chosen.gpus)],
    ["DSTACK_GPUS_PER_NODE", String(chosen.gpus)],
  ];
  if (workingDir) literalEnv.push(["DSTACK_WORKING_DIR", workingDir]);
  const dockerCompose = runCompose({
    image,
    ...(argv ? { argv } : {}),
    ...(workingDir ? { workingDir } : {}),
    ...(c.user ? { user: c.user } : {}),
    privileged: c.privileged,
    ...(maxDuration !== undefined ? { maxDuration } : {}),
    stopGracePeriod: typeof c.stopDuration === "number" ? c.stopDuration : DEFAULT_STOP_SECONDS,
    restart: c.retry?.onEvents.includes("error") ? "on-failure" : "no",
    ports: ports.map((p) => p.vmPort),
    literalEnv,
    sealedEnv: env.map((e) => e.key),
    binds: dev?.binds ?? [],
    volumes: c.volumes.flatMap((v) => (v.kind === "instance" ? [{ name: volumeName(v.instancePath), path: v.path }] : [])),
    gpus: chosen.gpus,
    ...(c.resources.shmSize !== undefined ? { shmBytes: Math.round(c.resources.shmSize * 1024 ** 3) } : {}),
    filesBase64: archive.base64,
    ...(repo?.url && repo.hash ? { repo: { url: repo.url, hash: repo.hash, path: repo.path ?? ".", ifExists: repo.ifExists } } : {}),
    runJson: runJson(
      describeRun(
        c,
        i.name,
        i.configPath,
        env.map((e) => e.key),
        archive.base64 ? sha256Hex(archive.base64) : "",
      ),
    ),
  });
  const built = buildAppCompose({ name: i.name, dockerCompose, kms: true, allowedEnvs: env.map((e) => e.key) });
  return {
    name: i.name,
    type: c.type,
    configPath: i.configPath,
    config: c,
    requirements: formatResources(c.resources),
    chosen,
    image,
    ports,
    env,
    files: { count: archive.files, bytes: archive.bytes },
    dockerCompose,
    built,
  };
}
