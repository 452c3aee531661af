import { attach } from "../../../client/apply/attach-flow.ts";
import { describeVm } from "../../../client/apply/runs.ts";
import { openClient } from "../../../client/connect/session.ts";
import { parseDuration } from "../../../core/compose/deploy-plan.ts";
import { NotFoundError } from "../../../core/errors.ts";
import { clientArgs, sshIdentityArgs } from "../../shared/args.ts";
import { defineCommand } from "../../shared/command.ts";
import { clientRun } from "../../shared/log.ts";

export default defineCommand({
  meta: {
    name: "attach",
    description:
      "Attach to a .dstack.yml run: its URLs and ports; a dev environment's attested SSH alias, forwards and IDE link; --logs streams its output",
  },
  args: {
    run: { type: "positional", required: true, description: "The run's name", valueHint: "RUN" },
    logs: { type: "boolean", description: "Stream the run's logs; exit with its exit code" },
    timeout: { type: "string", default: "300s", description: "How long to wait for the run's CVM to boot (and its SSH host key)" },
    ...sshIdentityArgs,
    ...clientArgs,
  },
  async run({ args, io, env }) {
    const r = clientRun({ io, env, args });
    const bootTimeoutMs = parseDuration(String(args.timeout), "--timeout");
    const { c, ep } = await openClient(args, r);
    let off = () => {};
    const interrupted = new Promise<void>((resolve) => {
      off = io.onSignal(["SIGINT"], () => resolve());
    });
    try {
      const vm = (await c.status({ brief: false })).vms.find((v) => v.name === args.run && v.status !== "removing");
      const d = vm && describeVm(vm);
      if (!d) throw new NotFoundError(`Run ${args.run} does not exist`, { hint: "see the runs with `dstack ps`" });
      const model = (d.configuration.model ?? null) as { name: string; prefix: string } | null;
      return await attach(
        c,
        d.name,
        { type: d.type, model },
        {
          bootTimeoutMs,
          interrupted,
          quiet: args.quiet === true,
          logs: args.logs === true,
          dev: { ep, prefix: args.prefix, sshIdentity: args["ssh-identity"], cwd: process.cwd() },
        },
        r,
      );
    } finally {
      off();
      c.close();
    }
  },
});
