import { RefusedError } from "../../core/errors.ts";
import { defineCommand } from "../shared/command.ts";
import { clientArgs } from "./common.ts";
import { forEachVm, vmArg } from "./each-vm.ts";

export default defineCommand({
  meta: { name: "rm", alias: ["remove"], description: "Remove CVMs and their disks (a running one needs -f)" },
  args: { ...vmArg, force: { type: "boolean", alias: "f", description: "Remove even if running" }, ...clientArgs },
  run: ({ args, io, env }) =>
    forEachVm(args, io, env, async (c, vm) => {
      if (vm.status === "running" && !args.force) {
        throw new RefusedError(`${vm.name} is running`, { hint: `stop it first (\`dstack stop ${vm.name}\`) or pass -f` });
      }
      await c.removeVm(vm.id);
      return "removed";
    }),
});
