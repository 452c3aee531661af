import { describeVm } from "../../client/apply/runs.ts";
import { openClient } from "../../client/connect/session.ts";
import { watchRemoval } from "../../client/removal-watch.ts";
import { runLineFilter } from "../../core/dstack-run/run-log.ts";
import { NotFoundError, UsageError } from "../../core/errors.ts";
import type { LogChannel } from "../../core/vmm/types.ts";
import { selectVm } from "../../core/vmm/vm-select.ts";
import { textClientArgs } from "../shared/args.ts";
import { defineCommand } from "../shared/command.ts";
import { clientRun } from "../shared/log.ts";

export default defineCommand({
  meta: {
    name: "logs",
    description:
      "Print (or follow) a CVM's log: serial console, or the VMM's stdout/stderr of it; a .dstack.yml run's own output only (all of the console with -d)",
  },
  args: {
    vm: { type: "positional", required: true, description: "VM name or id prefix", valueHint: "NAME|ID" },
    follow: { type: "boolean", alias: "f", description: "Keep streaming new lines (Ctrl-C to stop)" },
    lines: { type: "string", alias: "n", default: "200", description: "Lines from the end" },
    ch: { type: "string", default: "serial", description: "serial | stdout | stderr" },
    diagnose: {
      type: "boolean",
      alias: "d",
      description: "A .dstack.yml run: the whole serial console (boot, guest), not only the run's lines",
    },
    ...textClientArgs,
  },
  async run({ args, io, env }) {
    const ch = String(args.ch);
    if (!["serial", "stdout", "stderr"].includes(ch)) throw new UsageError(`--ch must be serial, stdout or stderr (got ${ch})`);
    if (!/^\d+$/.test(String(args.lines))) throw new UsageError(`--lines must be a non-negative integer (got ${args.lines})`);
    const { c } = await openClient(args, clientRun({ io, env, args }));
    const vm = selectVm((await c.status({ brief: false })).vms, String(args.vm));
    const filter = ch === "serial" && !args.diagnose && describeVm(vm) !== undefined ? runLineFilter() : undefined;
    // Ctrl-C while following is the normal way to stop: exit 0, not 130.
    let off = () => {};
    const interrupted = new Promise<"interrupted">((resolve) => {
      off = io.onSignal(["SIGINT"], () => resolve("interrupted"));
    });
    const pump = (async () => {
      for await (const chunk of c.logs(vm.id, { follow: args.follow === true, lines: Number(args.lines), ch: ch as LogChannel }))
        io.stdout(filter ? filter(chunk) : chunk);
      return "done" as const;
    })();
    // Following a VM that is then removed: stop, and say so (the VMM keeps the stream open with heartbeats).
    const gone = args.follow === true ? watchRemoval(c, vm.id) : undefined;
    try {
      const outcome = await Promise.race([pump, interrupted, ...(gone ? [gone.removed] : [])]);
      if (outcome === "removed") throw new NotFoundError(`VM ${vm.name} (${vm.id.slice(0, 8)}) was removed: nothing more to follow`);
    } finally {
      gone?.stop();
      off();
      c.close();
    }
    return 0;
  },
});
