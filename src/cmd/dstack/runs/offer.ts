import { showOffers } from "../../../client/apply/offer-flow.ts";
import { UsageError } from "../../../core/errors.ts";
import { clientArgs } from "../../shared/args.ts";
import { defineCommand } from "../../shared/command.ts";
import { clientRun } from "../../shared/log.ts";

export default defineCommand({
  meta: {
    name: "offer",
    description:
      "What this host can still give a run: CPUs, memory and GPUs left, as dstackai's offers (--gpu H100:2, --cpu 8.., --memory 32GB..)",
  },
  args: {
    cpu: { type: "string", description: "CPU range, e.g. 4, 8.., x86:16", valueHint: "SPEC" },
    memory: { type: "string", description: "Memory range, e.g. 32GB..", valueHint: "RANGE" },
    disk: { type: "string", description: "Disk range, e.g. 100GB..", valueHint: "RANGE" },
    gpu: { type: "string", description: "GPU spec, e.g. H100, A100:80GB:2, 24GB.., nvidia:1..8", valueHint: "SPEC" },
    "group-by": { type: "string", description: "gpu (with backend, region, count); repeatable or comma-separated", multiple: true },
    "max-offers": { type: "string", default: "50", description: "At most this many offers" },
    ...clientArgs,
  },
  run({ args, io, env }) {
    const max = String(args["max-offers"]);
    if (!/^\d+$/.test(max)) throw new UsageError(`--max-offers must be a whole number (got ${max})`);
    return showOffers(
      { ...args, groupBy: args["group-by"] ?? [], maxOffers: Number(max), json: args.json === true },
      clientRun({ io, env, args }),
    );
  },
});
