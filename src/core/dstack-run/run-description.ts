/**
 * The configuration as the CVM's compose records it (`x-dstack-run`): one
 * plain value per dstackai configuration property, env by name only (values are
 * sealed). `dstack ps` reads the type and path from it, and an apply of the
 * same name diffs it property by property ("Detected changes that can be
 * updated in-place: …").
 */
import type { RunConfiguration } from "../dstack-yml/configuration.ts";
import { formatAppPort } from "../dstack-yml/forms/ports.ts";
import { formatResources } from "../dstack-yml/resources/resources.ts";
import { RUN_KEY } from "./run-compose.ts";

export interface RunDescription {
  type: string;
  name: string;
  configuration_path: string;
  configuration: Record<string, unknown>;
}

export function describeRun(
  c: RunConfiguration,
  name: string,
  configPath: string,
  envNames: string[],
  filesDigest: string,
): RunDescription {
  const conf: Record<string, unknown> = {
    image: c.image ?? null,
    python: c.python ?? null,
    entrypoint: c.entrypoint ?? null,
    working_dir: c.workingDir ?? null,
    user: c.user ?? null,
    privileged: c.privileged,
    shell: c.shell ?? null,
    env: envNames,
    resources: formatResources(c.resources),
    volumes: c.volumes.map((v) => (v.kind === "instance" ? `${v.instancePath}:${v.path}` : `${v.name.join("|")}:${v.path}`)),
    repos: c.repos.map((r) => `${r.url ?? r.localPath}${r.hash ? `@${r.hash}` : ""}`),
    files: c.files.map((f) => `${f.localPath}:${f.path}`),
    file_archives: filesDigest || null,
    max_duration: c.maxDuration ?? null,
    stop_duration: c.stopDuration ?? null,
    retry: c.retry ?? null,
    priority: c.priority ?? null,
    registry_auth: c.registryAuth ? { username: "(sealed)" } : null,
  };
  if (c.type !== "dev-environment") conf.commands = c.commands;
  if (c.type === "task" || c.type === "dev-environment") conf.ports = c.ports.map(formatAppPort);
  if (c.type === "dev-environment") {
    conf.ide = c.ide ?? null;
    conf.version = c.version ?? null;
    conf.init = c.init;
    conf.inactivity_duration = c.inactivityDuration ?? null;
  }
  if (c.type === "service") {
    conf.port = c.port.containerPort;
    conf.model = c.model ?? null;
    conf.probes = c.probes ?? null;
  }
  return { type: c.type, name, configuration_path: configPath, configuration: conf };
}

/** The configuration properties whose values differ, sorted. */
export function changedProperties(before: RunDescription, after: RunDescription): string[] {
  const keys = new Set([...Object.keys(before.configuration), ...Object.keys(after.configuration)]);
  const out = [...keys].filter((k) => JSON.stringify(before.configuration[k]) !== JSON.stringify(after.configuration[k]));
  return out.sort();
}

/** The JSON recorded in the compose: `$` written as \u0024 so compose interpolation leaves it alone. */
export function runJson(d: RunDescription): string {
  return JSON.stringify(d).replaceAll("$", "\\u0024");
}

/** The description in a compose text this toolchain generated; undefined for any other compose. */
export function readRunDescription(dockerCompose: string): RunDescription | undefined {
  const line = dockerCompose.split("\n", 1)[0] ?? "";
  const prefix = `${RUN_KEY}: `;
  if (!line.startsWith(prefix)) return undefined;
  try {
    const d = JSON.parse(JSON.parse(line.slice(prefix.length))) as RunDescription;
    return typeof d.type === "string" && typeof d.name === "string" && d.configuration && typeof d.configuration === "object"
      ? d
      : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the run's CVM starts its command again after a failure (retry on `error` events: compose's restart: on-failure). */
export function retriesOnError(d: RunDescription): boolean {
  const r = d.configuration.retry as { onEvents?: unknown } | null | undefined;
  return Array.isArray(r?.onEvents) && r.onEvents.includes("error");
}
