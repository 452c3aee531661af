import { parseDuration } from "../../core/compose/deploy-plan.ts";
import { defineCommand } from "../shared/command.ts";
import { clientArgs } from "./common.ts";
import { forEachVm, vmArg } from "./each-vm.ts";
import { stopArgs, stopVm } from "./graceful-stop.ts";

export default defineCommand({
  meta: { name: "stop", description: "Stop CVMs: a guest shutdown, and the power cut after --timeout (at once with --force)" },
  args: { ...vmArg, ...stopArgs, ...clientArgs },
  run: ({ args, io, env }) => {
    const o = {
      force: args.force === true,
      timeoutMs: parseDuration(String(args.timeout), "--timeout"),
      timeoutText: String(args.timeout),
    };
    return forEachVm(args, io, env, (c, vm) => stopVm(c, vm, o));
  },
});
