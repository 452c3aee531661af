/**
 * `dstack offer`: what this host can still give, as dstackai's offers — with no
 * flags the unconstrained requirements (cpu 1.., mem 0.., gpu 0..), else the
 * ranges of `--cpu/--memory/--disk/--gpu` in the `resources` grammar.
 */
import { hostOffers, matchingGpus } from "../../core/dstack-run/offers.ts";
import { keyValueTable, offersTable } from "../../core/dstack-run/plan-table.ts";
import { formatChosen } from "../../core/dstack-run/sizing.ts";
import { GrammarError } from "../../core/dstack-yml/forms/grammar-error.ts";
import { parseCpu } from "../../core/dstack-yml/resources/cpu.ts";
import { parseGpuSpec } from "../../core/dstack-yml/resources/gpu.ts";
import { parseMemoryRange } from "../../core/dstack-yml/resources/memory.ts";
import { formatResources, type ResourcesSpec } from "../../core/dstack-yml/resources/resources.ts";
import { UsageError } from "../../core/errors.ts";
import { out } from "../../core/io.ts";
import { formatJson, formatTable } from "../../core/text/output.ts";
import type { EndpointFlags } from "../connect/endpoint.ts";
import { type ClientRun, openClient } from "../connect/session.ts";
import { hostFacts } from "./host-facts.ts";

export interface OfferFlags extends EndpointFlags {
  cpu?: string | undefined;
  memory?: string | undefined;
  disk?: string | undefined;
  gpu?: string | undefined;
  groupBy: string[];
  maxOffers: number;
  json: boolean;
}

function flag<T>(name: string, v: string | undefined, parse: (v: string) => T, fallback: T): T {
  if (v === undefined) return fallback;
  try {
    return parse(v);
  } catch (e) {
    if (e instanceof GrammarError) throw new UsageError(`--${name} ${JSON.stringify(v)}: ${e.message}`);
    throw e;
  }
}

export function offerRequirements(f: Pick<OfferFlags, "cpu" | "memory" | "disk" | "gpu">): ResourcesSpec {
  return {
    cpu: flag("cpu", f.cpu, parseCpu, { count: { min: 1 } }),
    memory: flag("memory", f.memory, parseMemoryRange, { min: 0 }),
    gpu: flag("gpu", f.gpu, parseGpuSpec, { count: { min: 0 } }),
    disk: flag("disk", f.disk, parseMemoryRange, { min: 1 }),
  };
}

export async function showOffers(f: OfferFlags, run: ClientRun): Promise<number> {
  const groups = f.groupBy.flatMap((g) => g.split(",")).filter(Boolean);
  for (const g of groups)
    if (!["gpu", "backend", "region", "count"].includes(g)) throw new UsageError(`--group-by ${g}: use gpu, backend, region or count`);
  if (groups.length && !groups.includes("gpu")) throw new UsageError("--group-by must include gpu");
  const req = offerRequirements(f);
  const { io } = run;
  const { c, ep } = await openClient(f, run);
  try {
    const host = await hostFacts(c, ep);
    const all = hostOffers(host, req, "most", 1000).filter((o) => o.available);
    const offers = all.slice(0, f.maxOffers);
    if (groups.length) {
      const gpus = matchingGpus(req.gpu, host.gpus);
      const models = [...new Set(gpus.map((g) => g.description))];
      const rows = models.map((m) => ({ m, n: gpus.filter((g) => g.description === m).length }));
      if (f.json)
        out(
          io,
          formatJson({
            host: ep.host,
            requirements: { resources: formatResources(req) },
            group_by: groups,
            gpus: rows.map((r) => ({ name: r.m, count: { min: 1, max: r.n }, backends: [host.backend] })),
          }),
        );
      else {
        out(
          io,
          keyValueTable(
            [
              ["Host", ep.host],
              ["Resources", formatResources(req)],
              ["Spot policy", "on-demand"],
              ["Reservation", "no"],
              ["Group by", groups.join(", ")],
            ],
            io.color,
          ),
        );
        out(
          io,
          formatTable(
            rows.map((r, i) => ({ ...r, i })),
            [
              { header: "#", get: (r) => String(r.i + 1) },
              { header: "GPU", get: (r) => `${r.m}:${r.n > 1 ? `1..${r.n}` : "1"}` },
              { header: "SPOT", get: () => "on-demand" },
              { header: "$/GPU", get: () => "-" },
              { header: "BACKEND(S)", get: () => host.backend },
            ],
          ),
        );
      }
      return 0;
    }
    if (f.json) {
      out(
        io,
        formatJson({
          host: ep.host,
          requirements: { resources: formatResources(req), max_price: null, spot: false, reservation: null },
          offers: offers.map((o) => ({ ...o, resources_text: formatChosen(o.resources, o.gpuName) })),
          total_offers: all.length,
        }),
      );
      return 0;
    }
    out(
      io,
      keyValueTable(
        [
          ["Host", ep.host],
          ["Resources", formatResources(req)],
          ["Spot policy", "on-demand"],
          ["Max price", "off"],
        ],
        io.color,
      ),
    );
    out(io, "");
    out(io, offersTable(offers, { color: io.color, dim: false, total: all.length }));
    return 0;
  } finally {
    c.close();
  }
}
