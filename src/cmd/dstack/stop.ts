import { confirm } from "../../client/apply/confirm.ts";
import { describeVm } from "../../client/apply/runs.ts";
import { openClient } from "../../client/connect/session.ts";
import { dropAliasNote } from "../../client/dev-env/ssh-files.ts";
import { forEachVm } from "../../client/each-vm.ts";
import { stopVm } from "../../client/graceful-stop.ts";
import { parseDuration } from "../../core/compose/deploy-plan.ts";
import { selectVm } from "../../core/vmm/vm-select.ts";
import { clientArgs, stopArgs, vmArg, yesArgs } from "../shared/args.ts";
import { defineCommand } from "../shared/command.ts";
import { clientRun } from "../shared/log.ts";

export default defineCommand({
  meta: {
    name: "stop",
    description:
      "Stop CVMs: a guest shutdown, and the power cut after --timeout (at once with --force); a .dstack.yml run asks first (-y: do not)",
  },
  args: {
    ...vmArg,
    ...stopArgs,
    abort: { type: "boolean", alias: "x", description: "dstackai's --abort: cut the power at once (as --force)" },
    ...yesArgs,
    ...clientArgs,
  },
  async run({ args, io, env }) {
    const run = clientRun({ io, env, args });
    const o = {
      force: args.force === true || args.abort === true,
      timeoutMs: parseDuration(String(args.timeout), "--timeout"),
      timeoutText: String(args.timeout),
    };
    if (!args.yes && args._.length) {
      const { c } = await openClient(args, run);
      try {
        const vms = (await c.status({ brief: false })).vms;
        const runs = args._.filter((r) => describeVm(selectVm(vms, r)) !== undefined);
        if (runs.length && !(await confirm(io, `Are you sure you want to stop the run${runs.length > 1 ? "s" : ""}?`, false))) {
          io.stderr("\nExiting...\n");
          return 0;
        }
      } finally {
        c.close();
      }
    }
    return forEachVm(args._, args, run, async (c, vm) => `${await stopVm(c, vm, o)}${await dropAliasNote(env, vm.name)}`, {
      refuseSystem: "stop",
    });
  },
});
