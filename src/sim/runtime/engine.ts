/**
 * The container engine of a simulated host: which one answers (docker, else podman), and
 * which compose drives it (`docker compose` v2, else `docker-compose` v1, else podman's).
 * Every tool runs with an argv array and the fixed PATH of src/host/runner.ts; the engine's
 * address (DOCKER_HOST / CONTAINER_HOST) is taken from the environment at install and
 * recorded, so the simulator, started later by a service manager, talks to the same engine.
 */
import { NO_RUNTIME, type RuntimeChoice, type SimRuntime } from "../../core/specs/sim-runtime.ts";
import { runTool, SANITISED_PATH, which } from "../../host/runner.ts";

/** compose v1 is Python: on a loaded machine its `version` alone takes seconds */
const PROBE_MS = 30_000;

/** The environment every engine and compose command gets: nothing of the caller's but these. */
export function engineEnv(rt: SimRuntime, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { PATH: SANITISED_PATH, ...extra };
  for (const k of ["HOME", "XDG_RUNTIME_DIR"]) if (process.env[k]) env[k] = process.env[k]!;
  if (rt.host) env[rt.engine === "podman" ? "CONTAINER_HOST" : "DOCKER_HOST"] = rt.host;
  return env;
}

async function firstLine(argv: string[], env: Record<string, string>): Promise<string | undefined> {
  const r = await runTool(argv, { env, path: SANITISED_PATH, timeoutMs: PROBE_MS });
  const line = r.stdout.trim().split("\n")[0]?.trim();
  return r.code === 0 && line ? line : undefined;
}

/** The compose of an engine: the v2 plugin, else the standalone tool (both asked at once). */
async function findCompose(client: string, engine: "docker" | "podman", env: Record<string, string>) {
  const candidates: string[][] = [[client, "compose"]];
  const standalone = which(engine === "docker" ? "docker-compose" : "podman-compose", SANITISED_PATH);
  if (standalone) candidates.push([standalone]);
  const versions = await Promise.all(candidates.map((argv) => firstLine([...argv, "version", "--short"], env)));
  const i = versions.findIndex((v) => v !== undefined);
  return i < 0 ? undefined : { compose: candidates[i]!, composeVersion: versions[i]!.replace(/^v/, "") };
}

/** Probe one engine: its server answers and a compose drives it; else why not. */
async function probe(engine: "docker" | "podman", host: string): Promise<SimRuntime | string> {
  const client = which(engine, SANITISED_PATH);
  if (!client) return `${engine}: not installed (no ${engine} on ${SANITISED_PATH})`;
  const rt: SimRuntime = { ...NO_RUNTIME, engine, client, host };
  const env = engineEnv(rt);
  const ask = engine === "docker" ? ["version", "--format", "{{.Server.Version}}"] : ["info", "--format", "{{.Version.Version}}"];
  const version = await firstLine([client, ...ask], env);
  if (!version)
    return `${engine}: the engine does not answer${host ? ` at ${host}` : ""} (is its daemon running, and may this user use it?)`;
  const compose = await findCompose(client, engine, env);
  if (!compose)
    return `${engine} ${version} answers, but no compose drives it (install ${engine === "docker" ? "docker-compose or the compose plugin" : "podman-compose"})`;
  return { ...rt, version, ...compose };
}

export interface Detected {
  runtime: SimRuntime;
  /** why each engine tried was not taken (empty when the first answered) */
  notes: string[];
}

/**
 * Resolve --runtime: `auto` takes the first engine that answers (docker, then podman) and
 * falls back to none; an explicit engine that does not answer is an error the caller reports.
 */
export async function detectRuntime(
  choice: RuntimeChoice,
  env: Readonly<Record<string, string | undefined>>,
): Promise<Detected & { error?: string }> {
  if (choice === "none") return { runtime: NO_RUNTIME, notes: [] };
  const engines: ("docker" | "podman")[] = choice === "auto" ? ["docker", "podman"] : [choice];
  const notes: string[] = [];
  for (const e of engines) {
    const r = await probe(e, (e === "docker" ? env.DOCKER_HOST : env.CONTAINER_HOST) ?? "");
    if (typeof r !== "string") return { runtime: r, notes };
    notes.push(r);
  }
  return choice === "auto" ? { runtime: NO_RUNTIME, notes } : { runtime: NO_RUNTIME, notes, error: notes.join("; ") };
}
