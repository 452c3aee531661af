/**
 * The CVM a run gets from its resource ranges: the least each range allows
 * (dstackai tries the cheapest offer first, which is the smallest that fits).
 * A range without a minimum takes dstackai's default minimum, capped by its
 * maximum (`cpu: ..64` → 2 vCPUs, `memory: ..4GB` → 4 GB).
 */
import { formatMemory } from "../dstack-yml/resources/memory.ts";
import type { Range } from "../dstack-yml/resources/range.ts";
import type { ResourcesSpec } from "../dstack-yml/resources/resources.ts";

export interface ChosenResources {
  vcpu: number;
  memoryMiB: number;
  diskGiB: number;
  gpus: number;
}

function least(r: Range<number>, fallback: number): number {
  if (r.min !== undefined) return r.min;
  return r.max !== undefined ? Math.min(fallback, r.max) : fallback;
}

export function chooseResources(r: ResourcesSpec): ChosenResources {
  return {
    vcpu: Math.max(1, least(r.cpu.count, 2)),
    memoryMiB: Math.max(64, Math.ceil(least(r.memory, 8) * 1024)),
    diskGiB: Math.max(1, Math.ceil(least(r.disk, 100))),
    gpus: least(r.gpu.count, 0),
  };
}

/**
 * `cpu=2 mem=8GB disk=100GB` (+ ` gpu=N`), the offer form of dstackai/dstack:
 * src/dstack/_internal/core/models/instances.py `Resources._pretty_format`.
 */
export function formatChosen(c: ChosenResources, gpuName?: string): string {
  const base = `cpu=${c.vcpu} mem=${formatMemory(c.memoryMiB / 1024)} disk=${c.diskGiB}GB`;
  return c.gpus > 0 ? `${base} gpu=${gpuName ? `${gpuName}:` : ""}${c.gpus}` : base;
}
