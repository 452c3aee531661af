import { withdrawAfterRemove } from "../../../client/allowlist/registration.ts";
import { dropAliasNote } from "../../../client/dev-env/ssh-files.ts";
import { forEachVm } from "../../../client/each-vm.ts";
import { waitGone } from "../../../client/vm-gone.ts";
import { RefusedError } from "../../../core/errors.ts";
import { clientArgs, vmArg } from "../../shared/args.ts";
import { defineCommand } from "../../shared/command.ts";
import { clientRun } from "../../shared/log.ts";

export default defineCommand({
  meta: { name: "rm", alias: ["remove"], description: "Remove CVMs and their disks (a running one needs -f)" },
  args: {
    ...vmArg,
    force: { type: "boolean", alias: "f", description: "Remove even if running" },
    "keep-registration": {
      type: "boolean",
      description: "Keep the app's allowlist registration even when this was its last VM (default: withdraw it)",
    },
    allowlist: { type: "string", description: "Allowlist to withdraw from (default: the install's)", valueHint: "PATH" },
    ...clientArgs,
  },
  run: ({ args, io, env }) => {
    return forEachVm(
      args._,
      args,
      clientRun({ io, env, args }),
      async (c, vm, ep) => {
        if (vm.status === "running" && !args.force) {
          throw new RefusedError(`${vm.name} is running`, { hint: `stop it first (\`dstack stop ${vm.name}\`) or pass -f` });
        }
        await c.removeVm(vm.id);
        await waitGone(c, vm.id, vm.name);
        const note = args["keep-registration"] ? "" : await withdrawAfterRemove(c, ep.allowlist, vm);
        return `removed${note}${await dropAliasNote(env, vm.name)}`;
      },
      { refuseSystem: "remove" },
    );
  },
});
