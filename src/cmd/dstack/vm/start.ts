import { waitBooted } from "../../../client/deploy/boot-wait.ts";
import { forEachVm } from "../../../client/each-vm.ts";
import { DEFAULTS, parseDuration } from "../../../core/compose/deploy-plan.ts";
import { clientArgs, detachArg, vmArg } from "../../shared/args.ts";
import { defineCommand } from "../../shared/command.ts";
import { clientRun } from "../../shared/log.ts";

export default defineCommand({
  meta: { name: "start", description: "Start stopped CVMs and wait for their boot (a failed boot prints the reason)" },
  args: {
    ...vmArg,
    ...detachArg,
    timeout: { type: "string", default: DEFAULTS.timeout, description: "How long to wait for the boot" },
    ...clientArgs,
  },
  run: ({ args, io, env }) => {
    const timeoutMs = parseDuration(String(args.timeout), "--timeout");
    return forEachVm(args._, args, clientRun({ io, env, args }), async (c, vm) => {
      if (vm.status === "running") return "already running";
      await c.startVm(vm.id);
      if (args.detach) return "started (not waiting for the boot)";
      await waitBooted(c, vm, timeoutMs, io, args.quiet === true || args.json === true);
      return "started (boot done)";
    });
  },
});
