import { DEFAULTS, parseDuration } from "../../core/compose/deploy-plan.ts";
import { defineCommand } from "../shared/command.ts";
import { detachArg, waitBooted } from "./boot-wait.ts";
import { clientArgs } from "./common.ts";
import { forEachVm, vmArg } from "./each-vm.ts";
import { stopArgs, stopVmNote } from "./graceful-stop.ts";

export default defineCommand({
  meta: { name: "restart", description: "Stop CVMs (as `dstack stop`), start them and wait for the boot" },
  args: { ...vmArg, ...stopArgs, ...detachArg, ...clientArgs },
  run: ({ args, io, env }) => {
    const o = {
      force: args.force === true,
      timeoutMs: parseDuration(String(args.timeout), "--timeout"),
      timeoutText: String(args.timeout),
    };
    return forEachVm(args, io, env, async (c, vm) => {
      const how = await stopVmNote(c, vm, o);
      await c.startVm(vm.id);
      const note = how ? ` (${how})` : "";
      if (args.detach) return `restarted${note}; not waiting for the boot`;
      await waitBooted(c, vm, parseDuration(DEFAULTS.timeout), io, args.quiet === true || args.json === true);
      return `restarted${note} (boot done)`;
    });
  },
});
