import { createInterface } from "node:readline/promises";
import { defineCommand } from "citty";
import { UsageError } from "../../core/errors.ts";
import { resolveLayout } from "../../core/layout.ts";
import { formatJson } from "../../core/output.ts";
import { destroyInstall, purgeTargets } from "../../host/install/destroy.ts";
import { readInstallState } from "../../host/install/state.ts";
import { dryRunArgs, outputArgs, prefixArgs, yesArgs } from "../shared/args.ts";
import { out } from "../shared/log.ts";
import { stderrProgress } from "./progress.ts";

export default defineCommand({
  meta: { name: "destroy", description: "Stop the KMS CVM and the daemons; --purge also removes config, state and keys" },
  args: {
    purge: { type: "boolean", description: "Also remove config, state, VMs, images and KMS keys (everything install created)" },
    instance: { type: "string", description: "systemd unit suffix" },
    ...prefixArgs,
    ...dryRunArgs,
    ...yesArgs,
    ...outputArgs,
  },
  async run({ args }) {
    const layout = resolveLayout({ prefix: args.prefix, instance: args.instance });
    const st = readInstallState(layout.stateFile);
    const dryRun = args["dry-run"] === true;
    if (args.purge && !dryRun && !args.yes) {
      const what = purgeTargets(layout).join(", ");
      if (!process.stdin.isTTY) {
        throw new UsageError(`--purge deletes ${what} including the KMS keys; pass -y to confirm without a terminal`);
      }
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      const answer = (await rl.question(`This deletes ${what}, including the KMS keys. Continue? [y/N] `)).trim().toLowerCase();
      rl.close();
      if (answer !== "y" && answer !== "yes") {
        process.stderr.write("aborted; nothing was changed\n");
        return 1;
      }
    }
    if (args.quiet !== true) process.stderr.write(`dstackup destroy${dryRun ? " --dry-run" : ""} (${layout.stateDir})\n`);
    const steps = await destroyInstall(layout, st, { purge: args.purge === true, dryRun }, stderrProgress(args.quiet === true));
    if (args.json) out(formatJson({ dryRun, purge: args.purge === true, steps }));
    return 0;
  },
});
