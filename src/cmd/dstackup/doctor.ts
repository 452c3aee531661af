import { out } from "../../core/io.ts";
import { formatJson } from "../../core/text/output.ts";
import { planInstall } from "../../host/install/plan.ts";
import { blocking, formatCheck } from "../../host/install/preflight.ts";
import { outputArgs } from "../shared/args.ts";
import { defineCommand } from "../shared/command.ts";
import { installArgs, installFlagsFrom, probeRuntime } from "./install-args.ts";

export default defineCommand({
  meta: { name: "doctor", description: "Run the install preflight checks alone and report (changes nothing)" },
  args: { ...installArgs, ...outputArgs },
  async run({ args, io, env }) {
    const plan = await planInstall(await probeRuntime(installFlagsFrom(args), env));
    const failed = blocking(plan.checks);
    if (args.json) out(io, formatJson({ ok: failed.length === 0, checks: plan.checks }));
    else
      out(
        io,
        plan.checks.map(formatCheck).join("\n") +
          `\n${failed.length ? `${failed.length} check(s) failed: ${failed.map((c) => c.name).join(", ")}` : "all checks passed"}`,
      );
    return failed.length ? 4 : 0;
  },
});
