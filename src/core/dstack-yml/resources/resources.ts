/**
 * `resources:` (dstackai's ResourcesSpec): cpu, memory, gpu, disk, shm_size,
 * with dstackai's defaults `cpu 2..`, `memory 8GB..`, `disk 100GB..`, `gpu 0..`.
 * Printed in the requirements form: `cpu=2.. mem=8GB.. disk=100GB.. gpu=0..`.
 */

import { GrammarError } from "../forms/grammar-error.ts";
import type { Issues } from "../yaml/issues.ts";
import { isObj } from "../yaml/values.ts";
import type { Path } from "../yaml/yaml11.ts";
import { type CpuSpec, formatCpu, parseCpu } from "./cpu.ts";
import { formatGpu, type GpuSpec, parseGpuSpec } from "./gpu.ts";
import { formatMemory, formatMemoryRange, parseMemoryGB, parseMemoryRange } from "./memory.ts";
import type { Range } from "./range.ts";

export interface ResourcesSpec {
  cpu: CpuSpec;
  /** GB */
  memory: Range<number>;
  gpu: GpuSpec;
  /** GB */
  disk: Range<number>;
  /** GB */
  shmSize?: number;
}

export function defaultResources(): ResourcesSpec {
  return { cpu: { count: { min: 2 } }, memory: { min: 8 }, gpu: { count: { min: 0 } }, disk: { min: 100 } };
}

export const RESOURCE_KEYS = ["cpu", "memory", "gpu", "disk", "shm_size"] as const;

function parseDisk(v: unknown): Range<number> {
  if (isObj(v) && "size" in v) {
    const extra = Object.keys(v).filter((k) => k !== "size");
    if (extra.length) throw new GrammarError(`unknown key ${extra[0]} (disk has size)`);
    return parseMemoryRange(v.size);
  }
  return parseMemoryRange(v);
}

/** One field through its grammar; a GrammarError becomes an issue at `path`. */
export function grammar<T>(v: unknown, path: Path, issues: Issues, parse: (v: unknown) => T): T | undefined {
  try {
    return parse(v);
  } catch (e) {
    if (e instanceof GrammarError) return issues.error(path, e.message);
    throw e;
  }
}

export function parseResources(v: unknown, path: Path, issues: Issues): ResourcesSpec | undefined {
  if (!isObj(v)) return issues.error(path, "Input should be a valid dictionary or object (resources: null is not allowed)");
  issues.unknownKeys(path, v, RESOURCE_KEYS);
  const r = defaultResources();
  const at = (k: string) => [...path, k];
  if (v.cpu != null) r.cpu = grammar(v.cpu, at("cpu"), issues, parseCpu) ?? r.cpu;
  if (v.memory != null) r.memory = grammar(v.memory, at("memory"), issues, parseMemoryRange) ?? r.memory;
  if (v.gpu != null) r.gpu = grammar(v.gpu, at("gpu"), issues, parseGpuSpec) ?? r.gpu;
  if (v.disk != null) r.disk = grammar(v.disk, at("disk"), issues, parseDisk) ?? r.disk;
  if (v.shm_size != null) {
    const shm = grammar(v.shm_size, at("shm_size"), issues, parseMemoryGB);
    if (shm !== undefined) r.shmSize = shm;
  }
  return r;
}

/** `cpu=2.. mem=8GB.. disk=100GB.. gpu=0..` (and ` shm_size=…` when set) */
export function formatResources(r: ResourcesSpec): string {
  const parts = [
    `cpu=${formatCpu(r.cpu)}`,
    `mem=${formatMemoryRange(r.memory)}`,
    `disk=${formatMemoryRange(r.disk)}`,
    `gpu=${formatGpu(r.gpu)}`,
  ];
  if (r.shmSize !== undefined) parts.push(`shm_size=${formatMemory(r.shmSize)}`);
  return parts.join(" ");
}
