import { readFileSync } from "node:fs";
import { NotFoundError } from "../../core/errors.ts";
import { out } from "../../core/io.ts";
import { resolveLayout } from "../../core/layout.ts";
import { parseToml } from "../../core/render/toml.ts";
import { describeSimRuntime, NO_RUNTIME, type SimRuntime, simRuntimeFrom } from "../../core/specs/sim-runtime.ts";
import { formatJson } from "../../core/text/output.ts";
import { installPlatform, readInstallState } from "../../host/install/state.ts";
import { checkHealth } from "../../host/services/health.ts";
import { outputArgs, prefixArgs } from "../shared/args.ts";
import { defineCommand } from "../shared/command.ts";

export default defineCommand({
  meta: { name: "status", description: "Each component of the install and its health (exit 0 healthy, 1 degraded)" },
  args: { ...prefixArgs, instance: { type: "string", description: "systemd unit suffix" }, ...outputArgs },
  async run({ args, io }) {
    const layout = resolveLayout({ prefix: args.prefix, instance: args.instance });
    const st = readInstallState(layout.stateFile);
    if (!st) {
      throw new NotFoundError(`no install at ${layout.stateFile}`, {
        hint: `run \`dstackup install${args.prefix ? ` --prefix ${args.prefix}` : ""}\` (or --simulate to try it without TDX)`,
      });
    }
    const h = await checkHealth(layout, st);
    const platform = installPlatform(st) ?? "unknown";
    const runtime = st.simulate ? simRuntimeOf(layout.vmmConfig) : undefined;
    if (args.json) {
      out(
        io,
        formatJson({
          ...h,
          platform,
          simulate: st.simulate ?? false,
          clientUrl: st.client_url,
          kmsVmId: st.kms_vm_id ?? null,
          image: st.image ?? null,
          ...(runtime ? { runtime } : {}),
        }),
      );
    } else {
      const lines = [`platform: ${platform}${st.simulate ? " (no TEE)" : ""}   image: ${st.image ?? "none"}`];
      if (runtime) lines.push(`runtime: ${describeSimRuntime(runtime)}`);
      for (const c of h.components) {
        lines.push(`${c.ok ? "ok  " : "FAIL"}  ${c.name.padEnd(22)} ${c.detail}`);
        if (!c.ok && c.hint) lines.push(`      ${"".padEnd(22)} next: ${c.hint}`);
      }
      lines.push(h.healthy ? "healthy" : "degraded");
      out(io, lines.join("\n"));
    }
    return h.healthy ? 0 : 1;
  },
});

/** The simulator's container runtime, as recorded in vmm.toml's [simulator] table. */
function simRuntimeOf(vmmToml: string): SimRuntime {
  try {
    const t = parseToml(readFileSync(vmmToml, "utf8"), vmmToml);
    const sim = t.simulator;
    return sim && typeof sim === "object" && !Array.isArray(sim) ? simRuntimeFrom(sim as Record<string, unknown>) : NO_RUNTIME;
  } catch {
    return NO_RUNTIME;
  }
}
