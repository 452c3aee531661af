import { backendName } from "../../client/apply/host-facts.ts";
import { runProbes } from "../../client/apply/probes.ts";
import { runStates } from "../../client/apply/run-states.ts";
import { describeVm } from "../../client/apply/runs.ts";
import { openClient } from "../../client/connect/session.ts";
import { probeMark, probesCell } from "../../core/dstack-run/probe-check.ts";
import { formatRuns } from "../../core/dstack-run/runs-table.ts";
import { UsageError } from "../../core/errors.ts";
import { out } from "../../core/io.ts";
import { formatJson } from "../../core/text/output.ts";
import { formatPs } from "../../core/vmm/ps-format.ts";
import type { VmInfo } from "../../core/vmm/types.ts";
import { clientArgs } from "../shared/args.ts";
import { defineCommand } from "../shared/command.ts";
import { clientRun } from "../shared/log.ts";
import { watchTable } from "../shared/watch.ts";

/** dstackai's `ps -w` refresh (LIVE_TABLE_PROVISION_INTERVAL_SECS). */
const WATCH_INTERVAL_MS = 2000;

function lastCount(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`-n/--last ${JSON.stringify(v)}: a number of VMs, 1 or more`);
  return Number(v);
}

export default defineCommand({
  meta: {
    name: "ps",
    alias: ["ls", "apps"],
    description:
      "List CVMs (running ones; -a for all; -n N the last N created; -q only ids; -w redraws every 2s); a .dstack.yml run's STATUS is dstackai's (running, exited (0), …); -v: dstackai's run columns",
  },
  args: {
    all: { type: "boolean", alias: "a", description: "Include stopped and exited VMs" },
    last: { type: "string", alias: "n", description: "Only the last N VMs created, whatever their status (implies -a)", valueHint: "N" },
    watch: {
      type: "boolean",
      alias: "w",
      description: "Redraw the table every 2s until Ctrl-C (not a terminal: the last table, at Ctrl-C, as dstackai); not with --json",
    },
    "no-trunc": { type: "boolean", description: "Whole names, images, statuses and ids (a terminal cuts long cells with …)" },
    ids: { type: "boolean", description: "Only print full VM ids (same as -q)" },
    ...clientArgs,
    quiet: { type: "boolean", alias: "q", description: "Only print full VM ids (docker's -q); only errors on stderr" },
    verbose: { type: "boolean", alias: "v", description: "The .dstack.yml runs, in dstackai's run columns (NAME BACKEND … ERROR)" },
  },
  async run({ args, io, env }) {
    const last = lastCount(args.last);
    if (args.watch && args.json) throw new UsageError("JSON output is not supported together with --watch");
    const noTrunc = args["no-trunc"] === true;
    const trunc = io.isTTY.stdout && !noTrunc;
    const { c, ep } = await openClient(args, clientRun({ io, env, args }));
    // a context in use heads the table: which host these VMs are on
    const head = ep.context ? `context: ${ep.context} (${ep.host})\n` : "";
    const listed = (vms: VmInfo[]) =>
      last !== undefined ? vms.slice(-last) : vms.filter((v) => args.all || v.status === "running" || v.status === "stopping");
    // a probe's passes in a row, carried between redraws (-w), so ready_after counts there
    const streaks = new Map<string, number>();
    const render = async (): Promise<string> => {
      // The VMM answers in creation order, so the last N are the newest.
      const vms = listed((await c.status({ brief: false })).vms);
      if (args.ids || args.quiet) return vms.map((v) => v.id).join("\n");
      const states = await runStates(c, vms);
      // a running service's probes, checked now (not for the plain table: it has no PROBES column)
      const probes = await runProbes(ep.host, args.json || args.verbose ? vms : [], (v) => states.get(v.id)?.status === "running", streaks);
      const cell = (id: string) => {
        const p = probes.get(id);
        return p ? probesCell(p.probes.map((x, i) => probeMark(p.streaks[i], x.readyAfter))) : undefined;
      };
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
            // dstackai's JobSubmission.probes; null: not checked from here
            probes: probes.get(id)?.streaks.map((n) => ({ success_streak: n ?? null })) ?? [],
          };
        };
        return formatJson(vms.map((v) => (states.has(v.id) ? { ...v, run: runOf(v.id) } : v)));
      }
      if (args.verbose) {
        const backend = backendName(ep);
        return (
          head +
          formatRuns(
            vms.filter((v) => states.has(v.id)).map((vm) => ({ vm, state: states.get(vm.id)!, backend, probes: cell(vm.id) })),
            { trunc },
          )
        );
      }
      return head + formatPs(vms, (v) => states.get(v.id)?.message, { trunc, fullIds: noTrunc });
    };
    try {
      if (args.watch) await watchTable(io, render, WATCH_INTERVAL_MS);
      else out(io, await render());
    } finally {
      c.close();
    }
  },
});
