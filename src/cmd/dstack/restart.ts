import { defineCommand } from "citty";
import { clientArgs } from "./common.ts";
import { forEachVm, vmArg } from "./each-vm.ts";

export default defineCommand({
  meta: { name: "restart", description: "Stop and start CVMs" },
  args: { ...vmArg, ...clientArgs },
  run: ({ args }) =>
    forEachVm(args, async (c, vm) => {
      await c.stopVm(vm.id);
      await c.startVm(vm.id);
      return "restarted";
    }),
});
