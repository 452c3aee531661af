/** What a run's plan needs to know of the host: its VMs, allocatable totals, GPUs and guest images, asked at once. */
import type { HostFacts } from "../../core/dstack-run/offers.ts";
import type { VmmClient } from "../../core/vmm/client.ts";
import type { VmInfo } from "../../core/vmm/types.ts";
import type { Endpoint } from "../connect/endpoint.ts";

export interface Host extends HostFacts {
  all: VmInfo[];
  images: string[];
}

export function backendName(ep: Pick<Endpoint, "host">): string {
  const h = ep.host;
  if (h.startsWith("unix:")) return "vmm (local)";
  try {
    return `vmm (${new URL(h).hostname})`;
  } catch {
    return "vmm";
  }
}

export async function hostFacts(c: VmmClient, ep: Endpoint, guestImage?: string): Promise<Host> {
  const [st, meta, gpus, images] = await Promise.all([
    c.status({ brief: false }),
    c.getMeta(),
    c.listGpus().catch(() => ({ gpus: [] })),
    c.listImages(),
  ]);
  const names = images.map((i) => i.name);
  const chosen = guestImage ?? (ep.image && names.includes(ep.image) ? ep.image : names[0]);
  return { backend: backendName(ep), meta: meta.resources, vms: st.vms, all: st.vms, gpus: gpus.gpus, guestImage: chosen, images: names };
}
