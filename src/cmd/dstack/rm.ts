import { forEachVm } from "../../client/each-vm.ts";
import { RefusedError } from "../../core/errors.ts";
import { clientArgs, vmArg } from "../shared/args.ts";
import { defineCommand } from "../shared/command.ts";
import { clientRun } from "../shared/log.ts";

export default defineCommand({
  meta: { name: "rm", alias: ["remove"], description: "Remove CVMs and their disks (a running one needs -f)" },
  args: { ...vmArg, force: { type: "boolean", alias: "f", description: "Remove even if running" }, ...clientArgs },
  run: ({ args, io, env }) =>
    forEachVm(args._, args, clientRun({ io, env, args }), async (c, vm) => {
      if (vm.status === "running" && !args.force) {
        throw new RefusedError(`${vm.name} is running`, { hint: `stop it first (\`dstack stop ${vm.name}\`) or pass -f` });
      }
      await c.removeVm(vm.id);
      return "removed";
    }),
});
