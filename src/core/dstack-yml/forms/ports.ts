/**
 * `ports:` of tasks and dev environments, and a service's `port:` (dstackai/dstack:
 * src/dstack/_internal/core/models/configurations.py).
 *
 * ports items: `8080` / `"8080"` (local 8080 → container 8080), `"80:8080"`,
 * `"*:8080"` (any free local port), `{local_port, container_port}`. Ports are
 * 1..65535 and container ports unique. A service's `port`: an int N (only the
 * container port matters), `"A:B"` or the mapping form.
 */
import { GrammarError } from "./grammar-error.ts";

export interface AppPort {
  /** null = pick a free one (`*:N`) */
  localPort: number | null;
  containerPort: number;
}

function portNumber(v: unknown): number {
  const n = typeof v === "number" ? v : typeof v === "string" && /^\d+$/.test(v.trim()) ? Number(v) : Number.NaN;
  if (!Number.isInteger(n)) throw new GrammarError(`Invalid port: ${JSON.stringify(v)}`);
  if (n < 1 || n > 65535) throw new GrammarError(`Invalid port ${n}: ports are 1..65535`);
  return n;
}

export function parsePortMapping(v: unknown): AppPort {
  if (typeof v === "number") {
    const p = portNumber(v);
    return { localPort: p, containerPort: p };
  }
  if (typeof v === "string") {
    const parts = v.trim().split(":");
    if (parts.length === 1) {
      const p = portNumber(parts[0]);
      return { localPort: p, containerPort: p };
    }
    if (parts.length === 2) {
      return { localPort: parts[0] === "*" ? null : portNumber(parts[0]), containerPort: portNumber(parts[1]) };
    }
    throw new GrammarError(`Invalid port mapping ${JSON.stringify(v)}: use PORT, LOCAL:CONTAINER or *:CONTAINER`);
  }
  if (v !== null && typeof v === "object" && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const extra = Object.keys(o).filter((k) => k !== "local_port" && k !== "container_port");
    if (extra.length) throw new GrammarError(`unknown key ${extra[0]} (a port mapping has local_port and container_port)`);
    if (o.container_port == null) throw new GrammarError("container_port: Field required");
    const containerPort = portNumber(o.container_port);
    return { localPort: o.local_port == null ? containerPort : portNumber(o.local_port), containerPort };
  }
  throw new GrammarError(`Invalid port mapping ${JSON.stringify(v)}: use PORT, LOCAL:CONTAINER or *:CONTAINER`);
}

/** All of `ports:`; duplicate container ports are an error. */
export function parsePorts(v: unknown): AppPort[] {
  if (!Array.isArray(v)) throw new GrammarError("Input should be a valid list");
  const out = v.map(parsePortMapping);
  const seen = new Set<number>();
  for (const p of out) {
    if (seen.has(p.containerPort)) throw new GrammarError(`Port ${p.containerPort} is used more than once as a container port`);
    seen.add(p.containerPort);
  }
  return out;
}

/** A service's `port:`; an int N is `{local_port: 80, container_port: N}` as in dstackai. */
export function parseServicePort(v: unknown): AppPort {
  if (typeof v === "number") return { localPort: 80, containerPort: portNumber(v) };
  return parsePortMapping(v);
}

/** `8080`, `80:8080`, `*:8080` */
export function formatAppPort(p: AppPort): string {
  if (p.localPort === p.containerPort) return String(p.containerPort);
  return `${p.localPort ?? "*"}:${p.containerPort}`;
}

/**
 * `dstack apply -p MAPPING …` over a configuration's `ports:` (dstackai's `_merge_ports`): a
 * mapping replaces the configuration's for its container port, in place, or is added after them.
 * A container port given twice with -p, or two ports bound to one local port, is an error.
 */
export function mergePorts(conf: readonly AppPort[], overrides: readonly AppPort[]): AppPort[] {
  const unique = (ports: number[]) => {
    const seen = new Set<number>();
    for (const p of ports) {
      if (seen.has(p)) throw new GrammarError(`Port ${p} is already in use`);
      seen.add(p);
    }
  };
  unique(overrides.map((p) => p.containerPort));
  const merged = new Map(conf.map((p) => [p.containerPort, p]));
  for (const p of overrides) merged.set(p.containerPort, p);
  const out = [...merged.values()];
  unique(out.flatMap((p) => (p.localPort === null ? [] : [p.localPort])));
  return out;
}
