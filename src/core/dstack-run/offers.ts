/**
 * What a dstack host can give a run, as dstackai's offers: the VMM's
 * allocatable totals (GetMeta) less what its running CVMs hold, its free GPUs
 * (ListGpus) and its guest images. An offer is one CVM size on this host; a GPU
 * range gives one offer per GPU count the host can satisfy.
 */
import type { GpuSpec } from "../dstack-yml/resources/gpu.ts";
import { inRange } from "../dstack-yml/resources/range.ts";
import type { ResourcesSpec } from "../dstack-yml/resources/resources.ts";
import type { VmmGpu } from "../specs/resources.ts";
import type { GetMetaResponse, VmInfo } from "../vmm/types.ts";
import { type ChosenResources, chooseResources, formatChosen } from "./sizing.ts";

export interface HostFacts {
  /** BACKEND column, e.g. `vmm (127.0.0.1)` */
  backend: string;
  meta: GetMetaResponse["resources"];
  vms: Pick<VmInfo, "status" | "configuration">[];
  gpus: VmmGpu[];
  /** the guest image a run would use */
  guestImage: string | undefined;
}

export interface Offer {
  backend: string;
  resources: ChosenResources;
  /** the GPUs' model when they are named alike, for the resources column */
  gpuName?: string;
  /** the free GPUs (slots) the offer would take */
  gpuSlots: string[];
  instanceType: string;
  available: boolean;
  /** why not, when not available */
  reason?: string;
}

export interface HostFree {
  vcpu: number;
  memoryMiB: number;
  cvms: number;
}

export function hostFree(f: Pick<HostFacts, "meta" | "vms">): HostFree {
  const live = f.vms.filter((v) => v.status !== "stopped" && v.status !== "exited");
  const vcpu = live.reduce((n, v) => n + (v.configuration?.vcpu ?? 0), 0);
  const mem = live.reduce((n, v) => n + (v.configuration?.memory ?? 0), 0);
  return {
    vcpu: f.meta.max_allocable_vcpu - vcpu,
    memoryMiB: f.meta.max_allocable_memory_in_mb - mem,
    cvms: f.meta.max_cvm_number - live.length,
  };
}

/** Free GPUs that match the spec's names and vendor (case-insensitive, in the VMM's description or product id). */
export function matchingGpus(spec: GpuSpec, gpus: VmmGpu[]): VmmGpu[] {
  const names = spec.name?.map((n) => n.toLowerCase());
  return gpus.filter((g) => {
    if (!g.is_free) return false;
    const text = `${g.description} ${g.product_id}`.toLowerCase();
    if (spec.vendor && !text.includes(spec.vendor === "google" ? "tpu" : spec.vendor)) return false;
    return !names || names.some((n) => text.includes(n));
  });
}

function gpuNameOf(gs: VmmGpu[], spec: GpuSpec): string | undefined {
  if (spec.name?.length === 1) return spec.name[0];
  const names = new Set(gs.map((g) => g.description));
  return names.size === 1 ? gs[0]!.description : undefined;
}

/**
 * The offers for `spec`. `sizing`: `least` (apply: the smallest CVM the ranges
 * allow) or `most` (offer: the largest this host can give within them).
 */
export function hostOffers(f: HostFacts, spec: ResourcesSpec, sizing: "least" | "most", maxOffers: number): Offer[] {
  const free = hostFree(f);
  const least = chooseResources(spec);
  const gpus = matchingGpus(spec.gpu, f.gpus);
  const counts: number[] = [];
  const lo = spec.gpu.count.min ?? 0;
  const hi = Math.min(spec.gpu.count.max ?? gpus.length, gpus.length);
  if (lo === 0 && (sizing === "least" || hi === 0)) counts.push(0);
  for (let n = Math.max(lo, 1); n <= hi && counts.length < maxOffers; n++) counts.push(n);
  if (counts.length === 0) counts.push(lo);
  const largest: ChosenResources = {
    vcpu: Math.max(least.vcpu, Math.min(spec.cpu.count.max ?? free.vcpu, free.vcpu)),
    memoryMiB: Math.max(
      least.memoryMiB,
      Math.min(spec.memory.max === undefined ? free.memoryMiB : Math.floor(spec.memory.max * 1024), free.memoryMiB),
    ),
    diskGiB: least.diskGiB,
    gpus: 0,
  };
  return counts.slice(0, maxOffers).map((n) => {
    const res: ChosenResources = { ...(sizing === "least" ? least : largest), gpus: n };
    const take = gpus.slice(0, n);
    const gpuName = n > 0 ? gpuNameOf(take, spec.gpu) : undefined;
    const offer: Offer = {
      backend: f.backend,
      resources: res,
      gpuSlots: take.map((g) => g.slot),
      instanceType: f.guestImage ?? "-",
      available: true,
    };
    if (gpuName) offer.gpuName = gpuName;
    const why: string[] = [];
    if (!f.guestImage) why.push("the VMM has no guest image");
    if (free.cvms < 1) why.push(`the VMM runs its maximum of ${f.meta.max_cvm_number} CVMs`);
    if (res.vcpu > free.vcpu) why.push(`${res.vcpu} vCPUs asked, ${Math.max(0, free.vcpu)} free`);
    if (res.memoryMiB > free.memoryMiB) why.push(`${res.memoryMiB} MiB asked, ${Math.max(0, free.memoryMiB)} MiB free`);
    if (n > gpus.length || !inRange(spec.gpu.count, n)) why.push(`${n} matching GPUs asked, ${gpus.length} free`);
    if (why.length) {
      offer.available = false;
      offer.reason = why.join("; ");
    }
    return offer;
  });
}

/** The RESOURCES column: `cpu=2 mem=8GB disk=100GB gpu=H100:1`. */
export function formatOfferResources(o: Offer): string {
  return formatChosen(o.resources, o.gpuName);
}
