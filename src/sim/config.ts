/** The parts of vmm.toml the simulator honours (Dstack-TEE/dstack: dstack/vmm/src/config.rs), with the VMM's defaults. */
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { NotFoundError, UsageError } from "../core/errors.ts";
import { parseToml } from "../core/render/toml.ts";
import type { PortRange } from "../core/specs/ports.ts";
import { type SimRuntime, simRuntimeFrom } from "../core/specs/sim-runtime.ts";
import { portPolicyOf } from "../core/specs/vmm-port-policy.ts";

export interface SimConfig {
  /** unix:PATH or tcp:HOST:PORT */
  address: { kind: "unix"; path: string } | { kind: "tcp"; host: string; port: number };
  runPath: string;
  imagePath: string;
  portMapping: { enabled: boolean; address: string; ranges: PortRange[] };
  cidStart: number;
  cidPoolSize: number;
  tokens: string[];
  authEnabled: boolean;
  /** the top-level kms_url: the only KMS the VMM asks for GetAppEnvEncryptPubKey ("" = none) */
  kmsUrl: string;
  kmsUrls: string[];
  gatewayUrls: string[];
  /** [gateway]: what GetMeta reports of the gateway (upstream's defaults: localhost, 8082, 8090) */
  gateway: { baseDomain: string; port: number; agentPort: number };
  nodeName: string;
  eventBufferSize: number;
  /** the auth webhook the simulated KMS asks at boot ([simulator] auth_url) */
  authUrl: string | undefined;
  /** milliseconds between simulated boot steps ([simulator] boot_step_ms) */
  bootStepMs: number;
  maxVcpu: number;
  maxMemory: number;
  /** the container engine that runs the apps ([simulator] runtime, engine, compose, engine_host) */
  runtime: SimRuntime;
}

type T = Record<string, unknown>;
const tbl = (v: unknown): T => (v && typeof v === "object" && !Array.isArray(v) ? (v as T) : {});
const str = (v: unknown, d: string) => (typeof v === "string" ? v : d);
const num = (v: unknown, d: number) => (typeof v === "number" ? v : d);

export function parseAddress(a: string, base: string): SimConfig["address"] {
  if (a.startsWith("unix:")) {
    const p = a.slice(5);
    return { kind: "unix", path: isAbsolute(p) ? p : resolve(base, p) };
  }
  const m = /^(?:tcp:)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(a);
  if (!m) throw new UsageError(`vmm.toml: cannot parse address ${JSON.stringify(a)} (expected unix:PATH or tcp:HOST:PORT)`);
  return { kind: "tcp", host: m[1]!.replace(/^\[|\]$/g, ""), port: m[2] ? Number(m[2]) : 8000 };
}

export function loadSimConfig(path: string): SimConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new NotFoundError(`cannot read ${path}: ${(e as Error).message}`);
  }
  const t = parseToml(text, path);
  const base = dirname(resolve(path));
  const cvm = tbl(t.cvm);
  const pm = tbl(cvm.port_mapping);
  const auth = tbl(t.auth);
  const sim = tbl(t.simulator);
  const gw = tbl(t.gateway);
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  const policy = portPolicyOf(t);
  return {
    address: parseAddress(str(t.address, "unix:./vmm.sock"), base),
    runPath: abs(str(t.run_path, "./vm")),
    imagePath: abs(str(tbl(t.image).path, str(t.image_path, "./images"))),
    portMapping: { enabled: policy.enabled === true, address: str(pm.address, "127.0.0.1"), ranges: policy.ranges },
    cidStart: num(cvm.cid_start, 1000),
    cidPoolSize: num(cvm.cid_pool_size, 1000),
    tokens: Array.isArray(auth.tokens)
      ? (auth.tokens as unknown[]).filter((x): x is string => typeof x === "string" && x.trim() !== "").map((x) => x.trim())
      : [],
    authEnabled: auth.enabled === true,
    kmsUrl: str(t.kms_url, ""),
    kmsUrls: Array.isArray(cvm.kms_urls) ? (cvm.kms_urls as string[]) : [],
    gatewayUrls: Array.isArray(cvm.gateway_urls) ? (cvm.gateway_urls as string[]) : [],
    gateway: { baseDomain: str(gw.base_domain, "localhost"), port: num(gw.port, 8082), agentPort: num(gw.agent_port, 8090) },
    nodeName: str(t.node_name, ""),
    eventBufferSize: num(t.event_buffer_size, 20),
    authUrl: typeof sim.auth_url === "string" && sim.auth_url ? sim.auth_url : undefined,
    bootStepMs: num(sim.boot_step_ms, 20),
    maxVcpu: num(cvm.max_allocable_vcpu, 20),
    maxMemory: num(cvm.max_allocable_memory_in_mb, 100000),
    runtime: simRuntimeFrom(sim),
  };
}
