/**
 * Picking free host ports for auto port specs (`-p 80`, `-p auto:80`).
 *
 * Upstream binds 127.0.0.1:0 and takes whatever the kernel hands out: a port
 * from the ephemeral range (32768-60999), which its own VMM policy (tcp
 * 1-20000) then refuses (Dstack-TEE/dstack: dstack/crates/dstack-cli-core/src/ports.rs). Here a port is drawn at random
 * INSIDE the VMM's allowed ranges, from 1024 up (never a privileged port, even
 * as root), outside the ephemeral range and outside the ports other VMs map,
 * and probed by binding it on the requested address.
 */
import { createSocket } from "node:dgram";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { DstackError } from "../core/errors.ts";
import { DEFAULT_HOST_ADDRESS, mappingsOverlap, type PortRange, type PortSpec, type Protocol } from "../core/specs/ports.ts";

/** The kernel's ephemeral port range (net.ipv4.ip_local_port_range), default 32768-60999. */
export function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    if (lo && hi && lo <= hi) return [lo, hi];
  } catch {
    /* not Linux or no /proc */
  }
  return [32768, 60999];
}

/** An address we cannot bind at all (not on this host, no IPv6): no port there will ever be free. */
function fatalBindError(address: string, e: NodeJS.ErrnoException): DstackError | undefined {
  if (e.code === "EADDRNOTAVAIL" || e.code === "EAFNOSUPPORT" || e.code === "EINVAL") {
    return new DstackError(`cannot bind ${address} on this host (${e.code})`, {
      hint: "use an address of this host in the port spec (e.g. 127.0.0.1), or give the host port explicitly",
    });
  }
  return undefined;
}

/**
 * Can we bind `address:port` right now? (Bind, then close at once.) False when
 * it is in use or not permitted; throws when the address itself is unusable.
 */
export async function isPortFree(protocol: Protocol, address: string, port: number): Promise<boolean> {
  if (protocol === "udp") {
    return new Promise((resolve, reject) => {
      const s = createSocket(address.includes(":") ? "udp6" : "udp4");
      s.once("error", (e: NodeJS.ErrnoException) => {
        s.close();
        const fatal = fatalBindError(address, e);
        if (fatal) reject(fatal);
        else resolve(false);
      });
      s.bind({ address, port, exclusive: true }, () => s.close(() => resolve(true)));
    });
  }
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", (e: NodeJS.ErrnoException) => {
      const fatal = fatalBindError(address, e);
      if (fatal) reject(fatal);
      else resolve(false);
    });
    srv.listen({ host: address, port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

export interface PickPortOptions {
  /** The VMM's allowed ranges ([cvm.port_mapping] range). */
  ranges: PortRange[];
  /** Mappings already taken (other VMs, earlier specs of this request). */
  taken?: { protocol: string; host_address: string; host_port: number }[];
  /** Override the ephemeral range to avoid (default: the kernel's). */
  ephemeral?: [number, number];
  /** Lowest port to consider (default 1024, as root too: auto ports are never privileged ones). */
  minPort?: number;
  /** Probe by binding (default true). Off when the VMM runs on another host. */
  probe?: boolean;
  /** Tries before giving up (default 100). */
  attempts?: number;
  random?: () => number;
}

/** The allowed candidate intervals for a protocol, minus the ephemeral range and below minPort. */
export function candidateIntervals(protocol: Protocol, opts: PickPortOptions): [number, number][] {
  const [elo, ehi] = opts.ephemeral ?? ephemeralRange();
  const min = opts.minPort ?? 1024;
  const out: [number, number][] = [];
  for (const r of opts.ranges) {
    if (r.protocol !== protocol) continue;
    const lo = Math.max(r.from, min, 1);
    const hi = Math.min(r.to, 65535);
    // subtract [elo, ehi]
    for (const [a, b] of [
      [lo, Math.min(hi, elo - 1)],
      [Math.max(lo, ehi + 1), hi],
    ] as [number, number][]) {
      if (a <= b) out.push([a, b]);
    }
  }
  return out;
}

/** A free host port for (protocol, address) inside the allowed ranges and outside the ephemeral range. */
export async function pickFreePort(protocol: Protocol, address: string = DEFAULT_HOST_ADDRESS, opts: PickPortOptions): Promise<number> {
  const intervals = candidateIntervals(protocol, opts);
  const total = intervals.reduce((n, [a, b]) => n + (b - a + 1), 0);
  const ranges = opts.ranges.map((r) => `${r.protocol} ${r.from}-${r.to}`).join(", ") || "none";
  if (total === 0) {
    const [elo, ehi] = opts.ephemeral ?? ephemeralRange();
    throw new DstackError(
      `no ${protocol} host port to pick: the VMM allows ${ranges}, and ports in the ephemeral range ${elo}-${ehi}${(opts.minPort ?? 1024) > 1 ? ` or below ${opts.minPort ?? 1024}` : ""} are not used`,
      { hint: "give the host port explicitly (-p HOST:VM), or widen [cvm.port_mapping] range in vmm.toml" },
    );
  }
  const rand = opts.random ?? Math.random;
  const attempts = Math.min(opts.attempts ?? 100, total);
  // Distinct candidates, each drawn at random; a draw that was already tried moves on to the next
  // untried one, so `attempts` draws try `attempts` different ports (every one, in a small range).
  const tried = new Set<number>();
  const portAt = (k: number) => {
    for (const [a, b] of intervals) {
      const n = b - a + 1;
      if (k < n) return a + k;
      k -= n;
    }
    throw new Error(`candidate index out of range: ${k}`);
  };
  while (tried.size < attempts) {
    let k = Math.floor(rand() * total);
    while (tried.has(k)) k = (k + 1) % total;
    tried.add(k);
    const port = portAt(k);
    const m = { protocol, host_address: address, host_port: port };
    if ((opts.taken ?? []).some((t) => mappingsOverlap(m, t))) continue;
    if (opts.probe === false || (await isPortFree(protocol, address, port))) return port;
  }
  throw new DstackError(`no free ${protocol} host port found on ${address} after ${tried.size} tries in ${ranges}`, {
    hint: "give the host port explicitly (-p HOST:VM)",
  });
}

/** Resolve every auto host port in `specs` (distinct from each other, from fixed specs and from `taken`). */
export async function resolveAutoPorts(specs: PortSpec[], opts: PickPortOptions): Promise<(PortSpec & { hostPort: number })[]> {
  const taken = [...(opts.taken ?? [])];
  for (const s of specs)
    if (s.hostPort !== "auto") taken.push({ protocol: s.protocol, host_address: s.hostAddress, host_port: s.hostPort });
  const out: (PortSpec & { hostPort: number })[] = [];
  for (const s of specs) {
    if (s.hostPort !== "auto") {
      out.push(s as PortSpec & { hostPort: number });
      continue;
    }
    const port = await pickFreePort(s.protocol, s.hostAddress, { ...opts, taken });
    taken.push({ protocol: s.protocol, host_address: s.hostAddress, host_port: port });
    out.push({ ...s, hostPort: port });
  }
  return out;
}
