/**
 * How an install runs its two daemons: this same program answers as dstack-auth (and, simulated,
 * as dstack-vmm-sim); the argv for a detached run and the unit text for systemd.
 */
import { realpathSync } from "node:fs";
import { basename, join } from "node:path";
import type { Layout } from "../../core/layout.ts";
import { renderAuthUnit, renderVmmUnit } from "../../core/render/units.ts";
import { logFileOf } from "../services/daemons.ts";
import type { ServiceSpec } from "../services/services.ts";

/** How to run this same program under another tool name. */
export function selfCommand(tool: string, libexecDir: string): { argv0: string[]; link?: [string, string] } {
  const exe = realpathSync(process.execPath);
  if (/^bun(-debug)?$/.test(basename(exe))) {
    // running from source: bun src/main.ts <tool>
    const main = realpathSync(join(import.meta.dir, "..", "..", "main.ts"));
    return { argv0: [exe, main, tool] };
  }
  const link = join(libexecDir, tool);
  return { argv0: [link], link: [link, exe] };
}

/** The two daemons: argv for a detached run, unit text for systemd. */
export function serviceSpecs(
  layout: Layout,
  authArgv0: string[],
  vmmArgv0: string[],
  authPort: number,
): { auth: ServiceSpec; vmm: ServiceSpec } {
  // Detached, dstack-auth writes its decision log to the file its stderr goes to, capped and rotated
  // there (--log-file); under systemd (the unit's own ExecStart) it is stderr, which journald caps.
  const authLog = logFileOf(layout.runDir, layout.authUnit);
  const authArgv = [
    ...authArgv0,
    "serve",
    "--config",
    layout.allowlistPath,
    "--address",
    "127.0.0.1",
    "--port",
    String(authPort),
    "--log-file",
    authLog,
  ];
  const vmmArgv = [...vmmArgv0, "-c", layout.vmmConfig];
  return {
    auth: {
      name: layout.authUnit,
      argv: authArgv,
      cwd: layout.stateDir,
      unitText: renderAuthUnit({
        authBin: authArgv[0]!,
        extraArgs: authArgv.slice(1, authArgv0.length),
        allowlistPath: layout.allowlistPath,
        authPort,
        stateDir: layout.stateDir,
      }),
    },
    vmm: {
      name: layout.vmmUnit,
      argv: vmmArgv,
      cwd: layout.stateDir,
      unitText: renderVmmUnit({
        vmmBin: vmmArgv[0]!,
        extraArgs: vmmArgv0.slice(1),
        vmmConfig: layout.vmmConfig,
        stateDir: layout.stateDir,
        authUnit: layout.authUnit,
      }),
    },
  };
}
