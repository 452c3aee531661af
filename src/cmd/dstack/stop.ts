import { defineCommand } from "citty";
import { clientArgs } from "./common.ts";
import { forEachVm, vmArg } from "./each-vm.ts";

export default defineCommand({
  meta: { name: "stop", description: "Stop CVMs (graceful shutdown; --force to cut the power)" },
  args: { ...vmArg, force: { type: "boolean", alias: "f", description: "Hard stop instead of a guest shutdown" }, ...clientArgs },
  run: ({ args }) =>
    forEachVm(args, async (c, vm) => {
      if (args.force || vm.status !== "running") await c.stopVm(vm.id);
      else {
        try {
          await c.shutdownVm(vm.id);
        } catch {
          await c.stopVm(vm.id);
        }
      }
      return "stopped";
    }),
});
