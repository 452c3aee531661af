/**
 * CreateVm/UpdateVm validation with the VMM's messages, in its order
 * (Dstack-TEE/dstack: dstack/vmm/src/main_service.rs, app.rs). Each check throws an RpcError.
 */
import { InvalidAppComposeError, parseAppCompose } from "../core/compose/app-compose-parse.ts";
import { isVmName } from "../core/compose/names.ts";
import { inRanges, isIpAddress, mappingsOverlap } from "../core/specs/ports.ts";
import type { GpuConfig, PortMapping } from "../core/vmm/types.ts";
import type { SimConfig } from "./config.ts";
import type { VmRecord } from "./store.ts";
import { type Obj, RpcError } from "./wire.ts";

export function checkName(name: string): void {
  if (!isVmName(name)) throw new RpcError(`Invalid name: ${name}`);
}

/**
 * The port list as stored: each mapping checked, the default host address filled in
 * (CreateVm only, where `checkPolicy` also applies [cvm.port_mapping]'s switch and ranges),
 * no duplicates inside the request, no clash with another VM's mappings.
 */
export function checkPorts(
  cfg: SimConfig,
  ports: PortMapping[],
  others: Iterable<VmRecord>,
  selfId: string | undefined,
  checkPolicy: boolean,
): PortMapping[] {
  if (!Array.isArray(ports)) throw new RpcError("invalid type: expected a sequence for field `ports`");
  if (ports.length && checkPolicy && !cfg.portMapping.enabled) throw new RpcError("Port mapping is disabled");
  const out: PortMapping[] = [];
  for (const p of ports) {
    if (typeof p !== "object" || p === null) throw new RpcError("invalid type: expected struct PortMapping");
    const proto = String(p.protocol ?? "");
    const hp = Number(p.host_port ?? 0);
    const vp = Number(p.vm_port ?? 0);
    if (hp > 65535) throw new RpcError("Invalid host port");
    if (vp > 65535) throw new RpcError("Invalid vm port");
    if (checkPolicy && !inRanges(proto, hp, cfg.portMapping.ranges)) throw new RpcError(`Port mapping is not allowed for ${proto}:${hp}`);
    if (proto !== "tcp" && proto !== "udp") throw new RpcError("Invalid protocol");
    const addr = String(p.host_address ?? "") || (checkPolicy ? cfg.portMapping.address : "");
    if (!isIpAddress(addr)) throw new RpcError("Invalid host address");
    out.push({ protocol: proto, host_port: hp, vm_port: vp, host_address: addr });
  }
  const vms = [...others];
  for (let i = 0; i < out.length; i++) {
    const m = out[i]!;
    const where = `${m.protocol} ${m.host_address}:${m.host_port}`;
    for (let j = 0; j < i; j++) if (mappingsOverlap(m, out[j]!)) throw new RpcError(`duplicate host port mapping: ${where}`);
    for (const other of vms) {
      if (other.id === selfId) continue;
      if (other.config.ports.some((o) => mappingsOverlap(m, o)))
        throw new RpcError(`host port mapping conflicts with VM ${other.id}: ${where}`);
    }
  }
  return out;
}

/** The checks create_vm makes of compose_file before loading it: JSON, and a known key_provider. */
export function checkComposeJson(text: unknown): void {
  if (typeof text !== "string") throw new RpcError("invalid type: expected a string for field `compose_file`");
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new RpcError(`invalid app compose JSON: ${(e as Error).message}`);
  }
  const kp = (raw as Obj)?.key_provider;
  if (kp !== undefined && kp !== null && !["none", "kms", "local", "tpm"].includes(String(kp))) throw new RpcError("invalid key_provider");
}

/**
 * What UpdateVm, UpgradeApp and GetComposeHash check of compose_file: it parses as an AppCompose
 * (anyhow's "Invalid compose file: <serde's cause>"; CreateVm's JSON check says "invalid app compose JSON").
 */
export function checkComposeFile(text: string): void {
  try {
    parseAppCompose(text);
  } catch (e) {
    throw new RpcError(`Invalid compose file: ${e instanceof InvalidAppComposeError ? e.issues.join("; ") : String(e)}`);
  }
}

/** This VMM has no GPUs: any GPU request fails as on a host with `[cvm.gpu] enabled = false`. */
export function checkGpus(gpus: GpuConfig | null | undefined): void {
  if (gpus === null || gpus === undefined) return;
  if (!["listed", "all"].includes(gpus.attach_mode)) throw new RpcError(`Invalid GPU attach mode: ${gpus.attach_mode ?? ""}`);
  if ((gpus.gpus?.length ?? 0) > 0 || gpus.attach_mode === "all") throw new RpcError("GPU is not enabled");
}

export function checkImageName(image: string): void {
  if (!image || image.length > 64 || image.includes("..") || !/^[A-Za-z0-9_.-]+$/.test(image))
    throw new RpcError("Failed to load VM: Invalid image name");
}

/** The lowest free CID of the pool (stopped VMs hold theirs too). */
export function freeCid(cfg: SimConfig, vms: Iterable<VmRecord>): number {
  const used = new Set([...vms].map((v) => v.cid));
  for (let c = cfg.cidStart; c < cfg.cidStart + cfg.cidPoolSize; c++) if (!used.has(c)) return c;
  throw new RpcError("Failed to load VM: CID pool exhausted");
}
