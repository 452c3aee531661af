/**
 * Test knobs: stand-ins the test suite points the tools at — fake programs, a fake
 * /proc/cpuinfo and /dev, a directory for unit files — and a shorter poll interval for the
 * waits that poll, so a test waits milliseconds where a user's run waits a second. The binary reads them from its
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
  /** Milliseconds between the polls of a wait (a KMS starting, a VM going away) instead of its own (DSTACK_POLL_MS). */
  pollMs?: number;
}

const PATHS = {
  toolPath: "DSTACK_TOOL_PATH",
  devRoot: "DSTACK_DEV_ROOT",
  cpuinfo: "DSTACK_CPUINFO",
  systemdDir: "DSTACK_SYSTEMD_DIR",
} as const satisfies Record<Exclude<keyof Knobs, "pollMs">, string>;

/** The knobs an environment sets: none unless DSTACK_TEST_MODE=1, and none for root. */
export function knobsFromEnv(env: Env, euid: number): Knobs {
  if (env.DSTACK_TEST_MODE !== "1" || euid === 0) return {};
  const k: Knobs = {};
  for (const [key, name] of Object.entries(PATHS) as [keyof typeof PATHS, string][]) {
    const v = env[name];
    if (v) k[key] = v;
  }
  const poll = Number(env.DSTACK_POLL_MS);
  if (Number.isInteger(poll) && poll > 0) k.pollMs = poll;
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

/** A wait's poll interval: `ms`, unless the pollMs knob says otherwise. */
export function pollEvery(ms: number): number {
  return current.pollMs ?? ms;
}
