import { userInfo } from "node:os";
import { applyRun } from "../../client/apply/apply-flow.ts";
import { parseDuration } from "../../core/compose/deploy-plan.ts";
import { UsageError } from "../../core/errors.ts";
import { clientArgs, dryRunArgs, kmsSignerArgs, yesArgs } from "../shared/args.ts";
import { defineCommand } from "../shared/command.ts";
import { clientRun } from "../shared/log.ts";

export default defineCommand({
  meta: {
    name: "apply",
    description: "Run a .dstack.yml task or service as a confidential VM: plan, confirm, submit, attach (dstack apply -f X [-y] [-d])",
  },
  args: {
    file: {
      type: "string",
      alias: "f",
      description: "The configuration (default .dstack.yml, then .dstack.yaml; - = stdin, needs -y)",
      valueHint: "FILE",
    },
    ...yesArgs,
    detach: { type: "boolean", alias: "d", description: "Return after submitting; do not attach" },
    force: { type: "boolean", description: "Force apply when no changes detected" },
    name: { type: "string", alias: "n", description: "The run name (overrides name:)" },
    env: {
      type: "string",
      alias: "e",
      description: "Env var, repeatable: KEY=VALUE, or KEY from your environment (sealed to the run)",
      valueHint: "KEY[=VALUE]",
      multiple: true,
    },
    allowlist: {
      type: "string",
      description: "Allowlist file to register the compose hash in (default: the install's)",
      valueHint: "PATH",
    },
    timeout: { type: "string", default: "300s", description: "How long to wait for the run's CVM to boot when attached" },
    ...kmsSignerArgs,
    ...dryRunArgs,
    ...clientArgs,
  },
  async run({ args, rawArgs, io, env }) {
    const dd = rawArgs.indexOf("--");
    const runArgs = dd >= 0 ? rawArgs.slice(dd + 1) : [];
    const extra = (dd >= 0 ? args._.slice(0, args._.length - runArgs.length) : args._).map(String);
    if (extra.length)
      throw new UsageError(`Unrecognized arguments: ${extra.join(" ")}`, { hint: "put the run's arguments (${{ run.args }}) after --" });
    let off = () => {};
    const interrupted = new Promise<void>((resolve) => {
      off = io.onSignal(["SIGINT"], () => resolve());
    });
    try {
      return await applyRun(
        {
          ...args,
          file: args.file,
          yes: args.yes === true,
          detach: args.detach === true,
          force: args.force === true,
          dryRun: args["dry-run"] === true,
          json: args.json === true,
          quiet: args.quiet === true,
          name: args.name,
          env: args.env ?? [],
          runArgs,
          cwd: process.cwd(),
          user: env.USER ?? userInfo().username,
          bootTimeoutMs: parseDuration(String(args.timeout), "--timeout"),
          interrupted,
        },
        clientRun({ io, env, args }),
      );
    } finally {
      off();
    }
  },
});
