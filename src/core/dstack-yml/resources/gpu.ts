/**
 * dstackai's GPUSpec (dstackai/dstack: src/dstack/_internal/core/models/resources.py): split on
 * `:`, each token classified in this order — a vendor (nvidia, amd, google/tpu, intel,
 * tenstorrent/tt, any case); a name or comma-separated names when it starts with a letter; a
 * per-GPU memory range when it contains a letter; else the count range. Any order; duplicates are
 * `GPU spec <field> conflict`. A spec without a count means `1..`; `0` means no GPU. The mapping
 * form has vendor, name, count, memory, total_memory, compute_capability.
 */
import { GrammarError } from "../forms/grammar-error.ts";
import { formatMemoryRange, parseMemoryRange } from "./memory.ts";
import { formatRange, parseCountRange, type Range } from "./range.ts";

export type GpuVendor = "nvidia" | "amd" | "google" | "intel" | "tenstorrent";

const VENDORS: Record<string, GpuVendor> = {
  nvidia: "nvidia",
  amd: "amd",
  google: "google",
  tpu: "google",
  intel: "intel",
  tenstorrent: "tenstorrent",
  tt: "tenstorrent",
};

export interface GpuSpec {
  vendor?: GpuVendor;
  name?: string[];
  count: Range<number>;
  /** per-GPU memory, GB */
  memory?: Range<number>;
  /** sum over the GPUs, GB */
  totalMemory?: Range<number>;
  /** a minimum, NVIDIA only */
  computeCapability?: [number, number];
}

function vendorOf(v: unknown): GpuVendor {
  const s = String(v).toLowerCase();
  const found = VENDORS[s];
  if (!found) throw new GrammarError(`Invalid GPU vendor: ${String(v)} (${Object.keys(VENDORS).join(", ")})`);
  return found;
}

function names(v: string): string[] {
  return v.split(",").map((n) => n.replace(/^tpu-/i, ""));
}

function parseCc(v: unknown): [number, number] {
  if (Array.isArray(v) && v.length === 2 && v.every((x) => Number.isInteger(x))) return [v[0] as number, v[1] as number];
  const m = /^(\d+)\.(\d+)$/.exec(String(v));
  if (!m) throw new GrammarError(`Invalid compute capability: ${JSON.stringify(v)} (e.g. 7.5 or [7, 5])`);
  return [Number(m[1]), Number(m[2])];
}

function fromString(text: string): GpuSpec {
  const spec: Partial<GpuSpec> = {};
  for (const token of text.replaceAll(" ", "").split(":")) {
    if (token === "") throw new GrammarError(`Invalid GPU spec: ${text}`);
    const lower = token.toLowerCase();
    if (lower in VENDORS) {
      if (spec.vendor) throw new GrammarError("GPU spec vendor conflict");
      spec.vendor = VENDORS[lower]!;
    } else if (/^[a-zA-Z]/.test(token)) {
      if (spec.name) throw new GrammarError("GPU spec name conflict");
      spec.name = names(token);
    } else if (/[a-zA-Z]/.test(token)) {
      if (spec.memory) throw new GrammarError("GPU spec memory conflict");
      spec.memory = parseMemoryRange(token);
    } else {
      if (spec.count) throw new GrammarError("GPU spec count conflict");
      spec.count = parseCountRange(token);
    }
  }
  return { ...spec, count: spec.count ?? { min: 1 } };
}

const MAP_KEYS = ["vendor", "name", "count", "memory", "total_memory", "compute_capability"];

export function parseGpuSpec(v: unknown): GpuSpec {
  if (typeof v === "number") return { count: parseCountRange(v) };
  if (typeof v === "string") return fromString(v);
  if (v !== null && typeof v === "object" && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const extra = Object.keys(o).filter((k) => !MAP_KEYS.includes(k));
    if (extra.length) throw new GrammarError(`unknown key ${extra[0]} (a GPU spec has ${MAP_KEYS.join(", ")})`);
    const spec: GpuSpec = { count: o.count === undefined || o.count === null ? { min: 1 } : parseCountRange(o.count) };
    if (o.vendor != null) spec.vendor = vendorOf(o.vendor);
    if (o.name != null) spec.name = Array.isArray(o.name) ? o.name.flatMap((n) => names(String(n))) : names(String(o.name));
    if (o.memory != null) spec.memory = parseMemoryRange(o.memory);
    if (o.total_memory != null) spec.totalMemory = parseMemoryRange(o.total_memory);
    if (o.compute_capability != null) spec.computeCapability = parseCc(o.compute_capability);
    return spec;
  }
  throw new GrammarError("Input should be a GPU spec such as 1, A100, H100:8, 24GB.., nvidia:1..8 or {name, count, memory}");
}

/** `<name|vendor>:<mem>:<count>:<total>:<cc>` with the parts that are set: `A100:80GB:2`, `24GB..:1..`, `0..`. */
export function formatGpu(g: GpuSpec): string {
  const parts: string[] = [];
  if (g.name?.length) parts.push(g.name.join(","));
  else if (g.vendor) parts.push(g.vendor);
  if (g.memory) parts.push(formatMemoryRange(g.memory));
  parts.push(formatRange(g.count, String));
  if (g.totalMemory) parts.push(formatMemoryRange(g.totalMemory));
  if (g.computeCapability) parts.push(g.computeCapability.join("."));
  return parts.join(":");
}
