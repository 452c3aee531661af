import { forEachVm } from "../../client/each-vm.ts";
import { stopVm } from "../../client/graceful-stop.ts";
import { parseDuration } from "../../core/compose/deploy-plan.ts";
import { clientArgs, stopArgs, vmArg } from "../shared/args.ts";
import { defineCommand } from "../shared/command.ts";
import { clientRun } from "../shared/log.ts";

export default defineCommand({
  meta: { name: "stop", description: "Stop CVMs: a guest shutdown, and the power cut after --timeout (at once with --force)" },
  args: { ...vmArg, ...stopArgs, ...clientArgs },
  run: ({ args, io, env }) => {
    const o = {
      force: args.force === true,
      timeoutMs: parseDuration(String(args.timeout), "--timeout"),
      timeoutText: String(args.timeout),
    };
    return forEachVm(args._, args, clientRun({ io, env, args }), (c, vm) => stopVm(c, vm, o));
  },
});
