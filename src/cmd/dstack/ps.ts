import { backendName } from "../../client/apply/host-facts.ts";
import { runStates } from "../../client/apply/run-states.ts";
import { describeVm } from "../../client/apply/runs.ts";
import { openClient } from "../../client/session.ts";
import { formatRuns } from "../../core/dstack-run/runs-table.ts";
import { out } from "../../core/io.ts";
import { formatJson } from "../../core/output.ts";
import { formatPs } from "../../core/vmm/ps-format.ts";
import { clientArgs } from "../shared/args.ts";
import { defineCommand } from "../shared/command.ts";
import { clientRun } from "../shared/log.ts";

export default defineCommand({
  meta: {
    name: "ps",
    alias: ["ls", "apps"],
    description:
      "List CVMs (running ones; -a for all; -q only ids); a .dstack.yml run's STATUS is dstackai's (running, exited (0), …); -v: dstackai's run columns",
  },
  args: {
    all: { type: "boolean", alias: "a", description: "Include stopped and exited VMs" },
    ids: { type: "boolean", description: "Only print full VM ids (same as -q)" },
    ...clientArgs,
  },
  async run({ args, io, env }) {
    const { c, ep } = await openClient(args, clientRun({ io, env, args }));
    try {
      const vms = (await c.status({ brief: false })).vms.filter((v) => args.all || v.status === "running" || v.status === "stopping");
      if (args.ids || args.quiet) {
        out(io, vms.map((v) => v.id).join("\n"));
        return;
      }
      const states = await runStates(c, vms);
      if (args.json) {
        const runOf = (id: string, d = describeVm(vms.find((v) => v.id === id)!)!) => {
          const s = states.get(id)!;
          return {
            type: d.type,
            configuration_path: d.configuration_path,
            status: s.status,
            status_message: s.message,
            exit_code: s.exitCode,
            termination_reason: s.terminationReason,
          };
        };
        out(io, formatJson(vms.map((v) => (states.has(v.id) ? { ...v, run: runOf(v.id) } : v))));
      } else if (args.verbose) {
        const backend = backendName(ep);
        out(io, formatRuns(vms.filter((v) => states.has(v.id)).map((vm) => ({ vm, state: states.get(vm.id)!, backend }))));
      } else
        out(
          io,
          formatPs(vms, (v) => states.get(v.id)?.message),
        );
    } finally {
      c.close();
    }
  },
});
