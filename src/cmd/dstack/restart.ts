import { defineCommand } from "citty";
import { parseDuration } from "../../core/deploy-plan.ts";
import { clientArgs } from "./common.ts";
import { forEachVm, vmArg } from "./each-vm.ts";
import { stopArgs, stopVm } from "./graceful-stop.ts";

export default defineCommand({
  meta: { name: "restart", description: "Stop CVMs (as `dstack stop`) and start them again" },
  args: { ...vmArg, ...stopArgs, ...clientArgs },
  run: ({ args }) => {
    const o = { force: args.force === true, timeoutMs: parseDuration(String(args.timeout), "--timeout"), timeoutText: String(args.timeout) };
    return forEachVm(args, async (c, vm) => {
      const how = await stopVm(c, vm, o);
      await c.startVm(vm.id);
      return how === "stopped" ? "restarted" : `restarted (${how.replace(/^stopped \((.*)\)$/, "$1")})`;
    });
  },
});
