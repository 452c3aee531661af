import { waitBooted } from "../../../client/deploy/boot-wait.ts";
import { forEachVm } from "../../../client/each-vm.ts";
import { stopVmNote } from "../../../client/graceful-stop.ts";
import { DEFAULTS, parseDuration } from "../../../core/compose/deploy-plan.ts";
import { clientArgs, detachArg, stopArgs, vmArg } from "../../shared/args.ts";
import { defineCommand } from "../../shared/command.ts";
import { clientRun } from "../../shared/log.ts";

export default defineCommand({
  meta: { name: "restart", description: "Stop CVMs (as `dstack stop`), start them and wait for the boot" },
  args: { ...vmArg, ...stopArgs, ...detachArg, ...clientArgs },
  run: ({ args, io, env }) => {
    const o = {
      force: args.force === true,
      timeoutMs: parseDuration(String(args.timeout), "--timeout"),
      timeoutText: String(args.timeout),
    };
    return forEachVm(args._, args, clientRun({ io, env, args }), async (c, vm) => {
      const how = await stopVmNote(c, vm, o);
      await c.startVm(vm.id);
      const note = how ? ` (${how})` : "";
      if (args.detach) return `restarted${note}; not waiting for the boot`;
      await waitBooted(c, vm, parseDuration(DEFAULTS.timeout), io, args.quiet === true || args.json === true);
      return `restarted${note} (boot done)`;
    });
  },
});
