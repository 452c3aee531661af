/**
 * Port specs for `-p/--port` (Dstack-TEE/dstack: dstack/crates/dstack-cli-core/src/ports.rs, extended):
 *
 *   VM | HOST:VM | PROTO:HOST:VM | ADDR:HOST:VM | PROTO:ADDR:HOST:VM   [/tcp|/udp]
 *
 * PROTO tcp|udp; HOST empty, `auto` or `0` = pick a free port later (parsing
 * never allocates); ADDR an IPv4 address or an IPv6 one in brackets
 * (`tcp:[::1]:8080:80`). Default protocol tcp, default address 127.0.0.1.
 * Also the VMM's port-mapping policy check (upstream dstack/vmm/src/main_service.rs), pure.
 */
import { isIP } from "node:net";
import { UsageError } from "../errors.ts";

export type Protocol = "tcp" | "udp";

export interface PortSpec {
  /** The text as given. */
  spec: string;
  protocol: Protocol;
  /** Host address, without brackets (`127.0.0.1`, `::1`, `0.0.0.0`). */
  hostAddress: string;
  /** Host port, or "auto" = pick a free one (src/host/free-port.ts). */
  hostPort: number | "auto";
  vmPort: number;
}

/** The VMM wire form (Dstack-TEE/dstack: dstack/vmm/rpc/proto/vmm_rpc.proto). */
export interface PortMapping {
  protocol: string;
  host_address: string;
  host_port: number;
  vm_port: number;
}

export const DEFAULT_HOST_ADDRESS = "127.0.0.1";

export const PORT_FORMS =
  "VM | HOST:VM | PROTO:HOST:VM | ADDR:HOST:VM | PROTO:ADDR:HOST:VM (PROTO tcp|udp, HOST auto|0|empty = a free port, ADDR an IPv4 or [IPv6] address; a /tcp or /udp suffix also works), e.g. 80, 8080:80, udp:5353:53, tcp:[::1]:8080:80";

function bad(spec: string, why: string, flag: string): UsageError {
  return new UsageError(`invalid ${flag} ${JSON.stringify(spec)}: ${why}; accepted forms: ${PORT_FORMS}`);
}

/** Split on `:` outside `[...]`. */
function splitSpec(spec: string, flag: string): string[] {
  const parts: string[] = [];
  let cur = "";
  let depth = 0;
  for (const ch of spec) {
    if (ch === "[") {
      if (depth) throw bad(spec, "nested [", flag);
      depth = 1;
      cur += ch;
    } else if (ch === "]") {
      if (!depth) throw bad(spec, "unbalanced ]", flag);
      depth = 0;
      cur += ch;
    } else if (ch === ":" && !depth) {
      parts.push(cur);
      cur = "";
    } else cur += ch;
  }
  if (depth) throw bad(spec, "unclosed [", flag);
  parts.push(cur);
  return parts;
}

function parsePort(text: string, label: string, spec: string, flag: string): number {
  if (!/^[0-9]{1,5}$/.test(text)) {
    throw bad(spec, text === "" ? `the ${label} port is missing` : `the ${label} port ${JSON.stringify(text)} is not a number`, flag);
  }
  const n = Number(text);
  if (n < 1 || n > 65535) throw bad(spec, `the ${label} port ${text} is out of range (1-65535)`, flag);
  return n;
}

function parseProto(text: string, spec: string, flag: string): Protocol {
  const p = text.toLowerCase();
  if (p !== "tcp" && p !== "udp") throw bad(spec, `unknown protocol ${JSON.stringify(text)} (tcp or udp)`, flag);
  return p;
}

function isProto(text: string): boolean {
  return /^(tcp|udp)$/i.test(text);
}

function parseAddr(text: string, spec: string, flag: string): string {
  if (text === "") return DEFAULT_HOST_ADDRESS;
  if (text.startsWith("[")) {
    const inner = text.slice(1, -1);
    if (!text.endsWith("]") || isIP(inner) !== 6) throw bad(spec, `${JSON.stringify(text)} is not an IPv6 address in brackets`, flag);
    return inner.toLowerCase();
  }
  if (isIP(text) === 4) return text;
  if (isIP(text) === 6) throw bad(spec, `put the IPv6 address ${text} in brackets: [${text}]`, flag);
  throw bad(spec, `${JSON.stringify(text)} is not an IP address`, flag);
}

/**
 * `dstack apply --host HOST` (dstackai's local bind address, default localhost): where the run's
 * ports are published. `localhost` is 127.0.0.1 (the VMM takes IP addresses only); an IPv6
 * address may come in brackets. Undefined when `text` is not one (an endpoint, a host name).
 */
export function parseBindAddress(text: string): string | undefined {
  if (text === "localhost") return DEFAULT_HOST_ADDRESS;
  const a = text.replace(/^\[(.*)\]$/, "$1");
  return isIP(a) === 0 ? undefined : a.toLowerCase();
}

/** Parse one port spec. Pure: an auto host port stays "auto". Throws UsageError. */
export function parsePortSpec(spec: string, flag = "--port"): PortSpec {
  const text = spec.trim();
  if (text === "") throw bad(spec, "empty", flag);
  let body = text;
  let suffixProto: Protocol | undefined;
  const slash = text.lastIndexOf("/");
  if (slash >= 0) {
    suffixProto = parseProto(text.slice(slash + 1), spec, flag);
    body = text.slice(0, slash);
  }
  const parts = splitSpec(body, flag);
  let proto: Protocol | undefined;
  let addr = "";
  let host = "";
  let vm: string;
  switch (parts.length) {
    case 1:
      vm = parts[0]!;
      break;
    case 2:
      [host, vm] = parts as [string, string];
      break;
    case 3:
      if (isProto(parts[0]!)) proto = parseProto(parts[0]!, spec, flag);
      else addr = parts[0]!;
      [, host, vm] = parts as [string, string, string];
      break;
    case 4:
      proto = parseProto(parts[0]!, spec, flag);
      [, addr, host, vm] = parts as [string, string, string, string];
      break;
    default:
      throw bad(spec, `${parts.length} colon-separated parts (an IPv6 address needs [brackets])`, flag);
  }
  if (proto && suffixProto && proto !== suffixProto) throw bad(spec, `two different protocols (${proto} and /${suffixProto})`, flag);
  if (parts.length === 3 && addr !== "" && !addr.startsWith("[") && isIP(addr) === 0) {
    throw bad(spec, `${JSON.stringify(addr)} is neither a protocol (tcp|udp) nor an IP address`, flag);
  }
  const hostAddress = parseAddr(addr, spec, flag);
  const vmPort = parsePort(vm, "VM", spec, flag);
  const hostPort: number | "auto" = host === "" || host === "auto" || host === "0" ? "auto" : parsePort(host, "host", spec, flag);
  return { spec, protocol: proto ?? suffixProto ?? "tcp", hostAddress, hostPort, vmPort };
}

/** Parse every spec (e.g. all `-p` flags). */
export function parsePortSpecs(specs: string[], flag = "--port"): PortSpec[] {
  return specs.map((s) => parsePortSpec(s, flag));
}

/** Canonical text of a spec: `proto:addr:host:vm` (IPv6 bracketed). */
export function formatPortSpec(p: Pick<PortSpec, "protocol" | "hostAddress" | "hostPort" | "vmPort">): string {
  const addr = p.hostAddress.includes(":") ? `[${p.hostAddress}]` : p.hostAddress;
  return `${p.protocol}:${addr}:${p.hostPort}:${p.vmPort}`;
}

/** The VMM wire form; the host port must be resolved (see src/host/free-port.ts). */
export function toPortMapping(p: Pick<PortSpec, "protocol" | "hostAddress" | "hostPort" | "vmPort" | "spec">): PortMapping {
  if (p.hostPort === "auto") throw new Error(`port spec ${JSON.stringify(p.spec)}: the host port is not resolved yet`);
  return { protocol: p.protocol, host_address: p.hostAddress, host_port: p.hostPort, vm_port: p.vmPort };
}

/** A URL for a mapped port (`http://127.0.0.1:8080/`, `http://[::1]:8080/`); 0.0.0.0/:: shown as loopback. */
export function portUrl(m: PortMapping, scheme = "http"): string {
  let a = m.host_address || DEFAULT_HOST_ADDRESS;
  if (a === "0.0.0.0") a = "127.0.0.1";
  if (a === "::") a = "::1";
  return `${scheme}://${a.includes(":") ? `[${a}]` : a}:${m.host_port}/`;
}

// ---- the VMM's port-mapping policy ------------------------------------------------

export interface PortRange {
  protocol: string;
  from: number;
  to: number;
}

export interface PortPolicy {
  /** `[cvm.port_mapping] enabled` (default true). */
  enabled?: boolean;
  /** `[cvm.port_mapping] range`; dstackup renders tcp and udp 1-20000. */
  ranges: PortRange[];
}

/** The range the upstream installer renders (Dstack-TEE/dstack: dstack/crates/dstack-cli-core/src/config.rs). */
export const DEFAULT_PORT_POLICY: PortPolicy = {
  enabled: true,
  ranges: [
    { protocol: "tcp", from: 1, to: 20000 },
    // Upstream renders tcp only, so `-p udp:…` is always refused there.
    { protocol: "udp", from: 1, to: 20000 },
  ],
};

/** An IPv4 or IPv6 address as Rust's `IpAddr` parses it (the `host_address` check of upstream dstack/vmm/src/main_service.rs). */
export function isIpAddress(addr: string): boolean {
  return isIP(addr) !== 0;
}

/** Expand an IP address to a comparable canonical form. */
export function canonicalAddress(addr: string): string {
  const a = addr.replace(/^\[|\]$/g, "").toLowerCase();
  if (isIP(a) !== 6) return a;
  let s = a;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const o = v4[1]!.split(".").map(Number);
    s = `${s.slice(0, -v4[1]!.length) + ((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`;
  }
  const [head, tail] = s.includes("::") ? (s.split("::") as [string, string]) : [s, undefined];
  const h = head ? head.split(":") : [];
  const t = tail !== undefined && tail !== "" ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  return groups.map((g) => parseInt(g, 16).toString(16)).join(":");
}

export function isUnspecified(addr: string): boolean {
  const c = canonicalAddress(addr);
  return c === "0.0.0.0" || c === "0:0:0:0:0:0:0:0";
}

/** True when two mappings would fight over a host socket (VMM rule: same proto+port, same address or either unspecified). */
export function mappingsOverlap(
  a: { protocol: string; host_address: string; host_port: number },
  b: { protocol: string; host_address: string; host_port: number },
): boolean {
  if (a.protocol !== b.protocol || a.host_port !== b.host_port) return false;
  const aa = a.host_address || DEFAULT_HOST_ADDRESS;
  const bb = b.host_address || DEFAULT_HOST_ADDRESS;
  return isUnspecified(aa) || isUnspecified(bb) || canonicalAddress(aa) === canonicalAddress(bb);
}

export function inRanges(protocol: string, port: number, ranges: PortRange[]): boolean {
  return ranges.some((r) => r.protocol === protocol && port >= r.from && port <= r.to);
}

function describeRanges(ranges: PortRange[]): string {
  return ranges.length ? ranges.map((r) => `${r.protocol} ${r.from}-${r.to}`).join(", ") : "none";
}

export interface PolicyExisting {
  /** The VM holding the mapping (for messages). */
  vm: string;
  mapping: PortMapping;
}

/**
 * Problems the VMM would reject a CreateVm with (upstream dstack/vmm/src/main_service.rs), found before the
 * call: mapping disabled, host port outside the allowed ranges, duplicates in
 * the request, clashes with other VMs' mappings. Auto ports are only checked for
 * "is there any allowed range for this protocol". Empty = fine.
 */
export function portPolicyProblems(specs: PortSpec[], policy: PortPolicy, existing: PolicyExisting[] = []): string[] {
  const out: string[] = [];
  if (specs.length && policy.enabled === false) {
    out.push("port mapping is disabled on this VMM ([cvm.port_mapping] enabled = false)");
    return out;
  }
  for (const s of specs) {
    const ranges = policy.ranges.filter((r) => r.protocol === s.protocol);
    if (s.hostPort === "auto") {
      if (!ranges.length)
        out.push(`${JSON.stringify(s.spec)}: this VMM allows no ${s.protocol} host ports (allowed: ${describeRanges(policy.ranges)})`);
    } else if (!inRanges(s.protocol, s.hostPort, policy.ranges)) {
      out.push(
        `${JSON.stringify(s.spec)}: host port ${s.protocol}:${s.hostPort} is outside the ranges this VMM allows (${describeRanges(policy.ranges)})`,
      );
    }
  }
  const fixed = specs.filter((s): s is PortSpec & { hostPort: number } => s.hostPort !== "auto");
  for (let i = 0; i < fixed.length; i++) {
    const a = toPortMapping(fixed[i]!);
    for (let j = 0; j < i; j++) {
      if (mappingsOverlap(a, toPortMapping(fixed[j]!))) {
        out.push(
          `${JSON.stringify(fixed[i]!.spec)} and ${JSON.stringify(fixed[j]!.spec)} map the same host port ${a.protocol}:${a.host_port}`,
        );
      }
    }
    for (const e of existing) {
      if (mappingsOverlap(a, e.mapping)) {
        out.push(
          `${JSON.stringify(fixed[i]!.spec)}: host port ${a.protocol} ${formatAddr(e.mapping.host_address)}:${a.host_port} is already mapped by VM ${e.vm}`,
        );
      }
    }
  }
  return out;
}

function formatAddr(a: string): string {
  return a.includes(":") ? `[${a}]` : a || DEFAULT_HOST_ADDRESS;
}

/** Throw a UsageError listing every policy problem (see portPolicyProblems). */
export function checkPortPolicy(specs: PortSpec[], policy: PortPolicy, existing: PolicyExisting[] = [], flag = "--port"): void {
  const problems = portPolicyProblems(specs, policy, existing);
  if (problems.length) {
    throw new UsageError(`${flag}: ${problems.join("; ")}`, {
      hint: `use host ports in ${describeRanges(policy.ranges)}, or \`auto\` to pick a free one`,
    });
  }
}
