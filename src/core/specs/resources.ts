/**
 * Resource specs for a CVM: --vcpu, --memory (→ MiB), --disk (→ GiB), --gpu.
 * Sizes follow docker: `M`/`MB`/`MiB` are all 1024² bytes, `G`/`GB`/`GiB` 1024³.
 */
import { NotFoundError, UsageError } from "../errors.ts";

export const MAX_VCPU = 1024;
/** The VMM takes memory as a u32 of MiB. */
export const MAX_MEMORY_MIB = 4 * 1024 * 1024; // 4 TiB
export const MIN_MEMORY_MIB = 64;
export const MAX_DISK_GIB = 64 * 1024; // 64 TiB

function usage(flag: string, value: string, why: string, forms: string): UsageError {
  return new UsageError(`invalid ${flag} ${JSON.stringify(value)}: ${why}; accepted: ${forms}`);
}

const VCPU_FORMS = `a whole number of vCPUs, 1-${MAX_VCPU} (e.g. 2)`;

export function parseVcpu(value: string | number, flag = "--vcpu"): number {
  const s = String(value).trim();
  if (!/^[0-9]+$/.test(s)) throw usage(flag, String(value), "not a whole number", VCPU_FORMS);
  const n = Number(s);
  if (n < 1 || n > MAX_VCPU) throw usage(flag, String(value), "out of range", VCPU_FORMS);
  return n;
}

const UNITS: Record<string, number> = {
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
};

/** Parse `<number>[unit]` into bytes; `defaultUnit` applies to a bare number. */
export function parseSize(value: string, defaultUnit: number, flag: string, forms: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?|\.[0-9]+)\s*([a-zA-Z]*)$/.exec(value.trim());
  if (!m) throw usage(flag, value, "not a size", forms);
  const unit = m[2]!.toLowerCase();
  const mult = unit === "" ? defaultUnit : UNITS[unit];
  if (mult === undefined) throw usage(flag, value, `unknown unit ${JSON.stringify(m[2])}`, forms);
  // exact decimal arithmetic for values like 1.5G
  const [int, frac = ""] = m[1]!.split(".");
  const scale = 10 ** frac.length;
  const bytes = (BigInt(int || "0") * BigInt(scale) + BigInt(frac || "0")) * BigInt(mult);
  if (bytes % BigInt(scale) !== 0n) throw usage(flag, value, "not a whole number of bytes", forms);
  return Number(bytes / BigInt(scale));
}

const MEMORY_FORMS = `MiB as a number (2048) or a size with a unit: 512M, 512MB, 2G, 2GB, 2GiB, 1.5G (${MIN_MEMORY_MIB} MiB to 4 TiB, whole MiB)`;

/** Memory → MiB: `2048` = MiB, `512MB`, `2GB`, `2GiB`, `1.5G`. */
export function parseMemory(value: string | number, flag = "--memory"): number {
  const s = String(value);
  const bytes = parseSize(s, 1024 ** 2, flag, MEMORY_FORMS);
  if (bytes % 1024 ** 2 !== 0) throw usage(flag, s, "not a whole number of MiB", MEMORY_FORMS);
  const mib = bytes / 1024 ** 2;
  if (mib < MIN_MEMORY_MIB) throw usage(flag, s, `less than ${MIN_MEMORY_MIB} MiB`, MEMORY_FORMS);
  if (mib > MAX_MEMORY_MIB) throw usage(flag, s, "more than 4 TiB", MEMORY_FORMS);
  return mib;
}

const DISK_FORMS = "GiB as a number (20) or a size with a unit: 20G, 20GB, 20GiB, 1T, 1.5T (1 GiB to 64 TiB, whole GiB)";

/** Disk → GiB: `20` = GiB, `20GB`, `20GiB`, `1T`. */
export function parseDisk(value: string | number, flag = "--disk"): number {
  const s = String(value);
  const bytes = parseSize(s, 1024 ** 3, flag, DISK_FORMS);
  if (bytes % 1024 ** 3 !== 0) throw usage(flag, s, "not a whole number of GiB", DISK_FORMS);
  const gib = bytes / 1024 ** 3;
  if (gib < 1) throw usage(flag, s, "less than 1 GiB", DISK_FORMS);
  if (gib > MAX_DISK_GIB) throw usage(flag, s, "more than 64 TiB", DISK_FORMS);
  return gib;
}

// ---- GPUs ------------------------------------------------------------------------

export type GpuSpec =
  | { kind: "none" }
  | { kind: "all" }
  /** `count` GPUs, optionally of one model (matched against the VMM's GPU descriptions). */
  | { kind: "count"; count: number; model?: string }
  /** Explicit PCI slots (`18:00.0`). */
  | { kind: "slots"; slots: string[] };

const GPU_FORMS = "all, none, a count (2), MODEL or MODEL:COUNT (H100, H100:2), or PCI slots (18:00.0,2a:00.0)";
const SLOT_RE = /^(?:[0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$/;
const MODEL_RE = /^[A-Za-z][A-Za-z0-9_.-]*$/;

export function parseGpu(value: string, flag = "--gpu"): GpuSpec {
  const s = value.trim();
  if (s === "") throw usage(flag, value, "empty", GPU_FORMS);
  const lower = s.toLowerCase();
  if (lower === "all") return { kind: "all" };
  if (lower === "none" || s === "0") return { kind: "none" };
  if (/^[0-9]+$/.test(s)) {
    const count = Number(s);
    if (count > 64) throw usage(flag, value, "more than 64 GPUs", GPU_FORMS);
    return { kind: "count", count };
  }
  const items = s.split(",").map((x) => x.trim());
  if (items.every((x) => SLOT_RE.test(x))) return { kind: "slots", slots: items.map((x) => x.toLowerCase()) };
  const m = /^([^:]+)(?::([0-9]+))?$/.exec(s);
  if (m && MODEL_RE.test(m[1]!)) {
    const count = m[2] === undefined ? 1 : Number(m[2]);
    if (count < 1 || count > 64) throw usage(flag, value, "the count must be 1-64", GPU_FORMS);
    return { kind: "count", count, model: m[1]! };
  }
  throw usage(flag, value, "not a GPU spec", GPU_FORMS);
}

/** A GPU as the VMM's ListGpus reports it (Dstack-TEE/dstack: dstack/vmm/rpc/proto/vmm_rpc.proto). */
export interface VmmGpu {
  slot: string;
  product_id: string;
  description: string;
  is_free: boolean;
}

/** The VMM's `gpus` field of VmConfiguration. */
export interface GpuConfig {
  gpus: { slot: string }[];
  attach_mode: "listed" | "all";
}

/**
 * Turn a spec into the VMM's GpuConfig, choosing free GPUs from ListGpus for
 * counts and models. `none` gives undefined (send no `gpus` field, never `{}`).
 */
export function selectGpus(spec: GpuSpec, available: VmmGpu[], flag = "--gpu"): GpuConfig | undefined {
  switch (spec.kind) {
    case "none":
      return undefined;
    case "all":
      return { gpus: [], attach_mode: "all" };
    case "slots": {
      const missing = spec.slots.filter((s) => !available.some((g) => g.slot.toLowerCase() === s));
      if (missing.length) {
        throw new NotFoundError(`${flag}: no GPU at ${missing.join(", ")} on this host`, {
          hint: `the host has: ${available.map((g) => g.slot).join(", ") || "no GPUs"}`,
        });
      }
      return { gpus: spec.slots.map((slot) => ({ slot })), attach_mode: "listed" };
    }
    case "count": {
      const model = spec.model?.toLowerCase();
      const fits = available.filter(
        (g) => g.is_free && (!model || g.description.toLowerCase().includes(model) || g.product_id.toLowerCase() === model),
      );
      if (fits.length < spec.count) {
        const what = spec.model ? `${spec.model} GPU` : "GPU";
        throw new NotFoundError(`${flag}: asked for ${spec.count} free ${what}${spec.count > 1 ? "s" : ""}, this host has ${fits.length}`, {
          hint: `free GPUs: ${
            available
              .filter((g) => g.is_free)
              .map((g) => `${g.slot} (${g.description})`)
              .join(", ") || "none"
          }`,
        });
      }
      return { gpus: fits.slice(0, spec.count).map((g) => ({ slot: g.slot })), attach_mode: "listed" };
    }
  }
}
