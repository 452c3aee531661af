/**
 * Test knobs: stand-ins the test suite points the tools at — fake programs, a fake
 * /proc/cpuinfo and /dev, a directory for unit files. The binary reads them from its
 * environment only in an explicit test mode and never as root (knobsFromEnv, called by
 * src/main.ts); a test that runs commands in-process sets them directly (setKnobs).
 */
import type { Env } from "./io.ts";

export interface Knobs {
  /** PATH for external tools instead of the sanitised one (DSTACK_TOOL_PATH). */
  toolPath?: string;
  /** Where device nodes are looked for instead of /dev (DSTACK_DEV_ROOT). */
  devRoot?: string;
  /** The file read instead of /proc/cpuinfo (DSTACK_CPUINFO). */
  cpuinfo?: string;
  /** Where unit files go instead of /etc/systemd/system (DSTACK_SYSTEMD_DIR). */
  systemdDir?: string;
}

const VARS = {
  toolPath: "DSTACK_TOOL_PATH",
  devRoot: "DSTACK_DEV_ROOT",
  cpuinfo: "DSTACK_CPUINFO",
  systemdDir: "DSTACK_SYSTEMD_DIR",
} as const satisfies Record<keyof Knobs, string>;

/** The knobs an environment sets: none unless DSTACK_TEST_MODE=1, and none for root. */
export function knobsFromEnv(env: Env, euid: number): Knobs {
  if (env.DSTACK_TEST_MODE !== "1" || euid === 0) return {};
  const k: Knobs = {};
  for (const [key, name] of Object.entries(VARS) as [keyof Knobs, string][]) {
    const v = env[name];
    if (v) k[key] = v;
  }
  return k;
}

let current: Knobs = {};

/** Set the knobs of this process (src/main.ts once; tests around an in-process run). */
export function setKnobs(k: Knobs): void {
  current = { ...k };
}

export function knobs(): Readonly<Knobs> {
  return current;
}
