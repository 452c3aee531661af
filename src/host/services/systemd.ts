/** systemd through systemctl (sanitised PATH, argv arrays). */
import { existsSync } from "node:fs";
import { knobs } from "../../core/knobs.ts";
import { runTool } from "../runner.ts";

/** systemd is PID 1 here (the usual test of sd_booted). */
export function systemdRunning(): boolean {
  return existsSync("/run/systemd/system");
}

/** Where unit files go: /etc/systemd/system (or the systemdDir test knob). */
export function unitDir(): string {
  return knobs().systemdDir ?? "/etc/systemd/system";
}

export async function systemctl(...args: string[]) {
  return runTool(["systemctl", ...args], { timeoutMs: 120_000 });
}

export async function isActive(unit: string): Promise<boolean> {
  return (await systemctl("is-active", "--quiet", `${unit}.service`)).code === 0;
}

/** Monotonic start time of the unit's current activation (0 when inactive). */
export async function activeSince(unit: string): Promise<string> {
  const r = await systemctl("show", "-p", "ActiveEnterTimestampMonotonic", "--value", `${unit}.service`);
  return r.stdout.trim();
}
