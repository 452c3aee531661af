import { defineCommand } from "citty";
import { clientArgs } from "./common.ts";
import { forEachVm, vmArg } from "./each-vm.ts";

export default defineCommand({
  meta: { name: "start", description: "Start stopped CVMs" },
  args: { ...vmArg, ...clientArgs },
  run: ({ args }) =>
    forEachVm(args, async (c, vm) => {
      await c.startVm(vm.id);
      return "started";
    }),
});
