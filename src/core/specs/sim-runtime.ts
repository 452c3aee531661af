/**
 * The container runtime of a simulated host (`dstackup install --simulate --runtime …`):
 * which engine runs the apps' containers, recorded in vmm.toml's `[simulator]` table at
 * install and read back by dstack-vmm-sim and `dstackup status`. Pure data and text.
 */
export type RuntimeChoice = "auto" | "docker" | "podman" | "none";
export const RUNTIME_CHOICES: readonly RuntimeChoice[] = ["auto", "docker", "podman", "none"];

export interface SimRuntime {
  engine: "docker" | "podman" | "none";
  /** the engine's client binary (absolute), "" with none */
  client: string;
  /** the compose command (argv prefix): [docker, compose] | [docker-compose] | [podman, compose] | [podman-compose] */
  compose: string[];
  /** DOCKER_HOST / CONTAINER_HOST the engine answered on at install ("" = the client's default) */
  host: string;
  /** the engine's server version, and the compose tool's */
  version: string;
  composeVersion: string;
}

export const NO_RUNTIME: SimRuntime = { engine: "none", client: "", compose: [], host: "", version: "", composeVersion: "" };

/** What to do when apps cannot run: the one hint `dstack run`, `dstackup status` and the serial log give. */
export const NO_ENGINE_HINT =
  "apps do not run on this simulated host: it has no container engine. Install one (Debian: apt-get install docker.io docker-compose; or podman podman-compose), then re-run `dstackup install --simulate --runtime auto`";

/** The VM event a simulated host without an engine adds at "starting containers" (its body: NO_ENGINE_HINT). */
export const NO_ENGINE_EVENT = "simulator.no_engine";

/** The no-engine note of a booted VM's events, if its host said so. */
export function noEngineNote(events: { event: string; body: string }[]): string | undefined {
  return events.find((e) => e.event === NO_ENGINE_EVENT)?.body;
}

export function simRuntimeToml(rt: SimRuntime): Record<string, unknown> {
  return {
    runtime: rt.engine,
    engine: rt.client,
    compose: rt.compose,
    engine_host: rt.host,
    engine_version: rt.version,
    compose_version: rt.composeVersion,
  };
}

/** The runtime recorded in a `[simulator]` table; none when absent or unknown. */
export function simRuntimeFrom(sim: Record<string, unknown>): SimRuntime {
  const s = (k: string) => (typeof sim[k] === "string" ? (sim[k] as string) : "");
  const engine = s("runtime");
  if (engine !== "docker" && engine !== "podman") return NO_RUNTIME;
  const compose = Array.isArray(sim.compose) ? sim.compose.filter((x): x is string => typeof x === "string") : [];
  if (!s("engine") || compose.length === 0) return NO_RUNTIME;
  return {
    engine,
    client: s("engine"),
    compose,
    host: s("engine_host"),
    version: s("engine_version"),
    composeVersion: s("compose_version"),
  };
}

/** One line: `docker 20.10.24 (compose: docker-compose 1.29.2) at unix:///…`, or the no-engine hint. */
export function describeSimRuntime(rt: SimRuntime): string {
  if (rt.engine === "none") return `none — ${NO_ENGINE_HINT}`;
  const compose = rt.compose.map((p) => p.split("/").pop()).join(" ");
  return `${rt.engine} ${rt.version} (compose: ${compose} ${rt.composeVersion})${rt.host ? ` at ${rt.host}` : ""} — apps run in containers`;
}
