import { UsageError } from "../../core/errors.ts";
import { out } from "../../core/io.ts";
import { resolveLayout } from "../../core/layout.ts";
import { formatJson } from "../../core/text/output.ts";
import { destroyInstall, purgeTargets } from "../../host/install/destroy.ts";
import { DamagedStateError, type InstallState, readInstallState } from "../../host/install/state.ts";
import { dryRunArgs, outputArgs, prefixArgs, yesArgs } from "../shared/args.ts";
import { defineCommand } from "../shared/command.ts";
import { lockArgs, locked } from "./lock-args.ts";
import { stderrProgress } from "./progress.ts";

export default defineCommand({
  meta: { name: "destroy", description: "Stop the KMS CVM and the daemons; --purge also removes config, state and keys" },
  args: {
    purge: { type: "boolean", description: "Also remove config, state, VMs, images and KMS keys (everything install created)" },
    instance: { type: "string", description: "systemd unit suffix" },
    ...prefixArgs,
    ...lockArgs,
    ...dryRunArgs,
    ...yesArgs,
    ...outputArgs,
  },
  async run({ args, io }) {
    const layout = resolveLayout({ prefix: args.prefix, instance: args.instance });
    const dryRun = args["dry-run"] === true;
    if (args.purge && !dryRun && !args.yes) {
      const what = purgeTargets(layout).join(", ");
      if (!io.isTTY.stdin) {
        throw new UsageError(`--purge deletes ${what} including the KMS keys; pass -y to confirm without a terminal`);
      }
      const answer = (await io.prompt(`This deletes ${what}, including the KMS keys. Continue? [y/N] `)).trim().toLowerCase();
      if (answer !== "y" && answer !== "yes") {
        io.stderr("aborted; nothing was changed\n");
        return 1;
      }
    }
    const destroy = async () => {
      // A damaged state file: the daemons are still stopped, then the error is reported (exit 4).
      let st: InstallState | undefined;
      let damaged: DamagedStateError | undefined;
      try {
        st = readInstallState(layout.stateFile);
      } catch (e) {
        if (!(e instanceof DamagedStateError)) throw e;
        damaged = e;
      }
      if (args.quiet !== true) io.stderr(`dstackup destroy${dryRun ? " --dry-run" : ""} (${layout.stateDir})\n`);
      const opts = { purge: args.purge === true, dryRun, damagedState: damaged !== undefined };
      const steps = await destroyInstall(layout, st, opts, stderrProgress(io, args.quiet === true));
      if (args.json) out(io, formatJson({ dryRun, purge: args.purge === true, steps }));
      if (damaged) throw damaged;
      return 0;
    };
    return dryRun ? await destroy() : await locked(layout, args, io, destroy);
  },
});
