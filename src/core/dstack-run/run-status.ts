/**
 * A declarative run's status in dstackai's words (`RunStatus` and the job status
 * messages of `dstack ps`), from what a dstack host can see: the CVM's state and
 * the run's exit line on the serial console (start-script.ts).
 */

import { INACTIVITY_LINE } from "../dev-env/cvm/dev-script.ts";
import type { VmInfo } from "../vmm/types.ts";
import { EXIT_LINE, MAX_DURATION_LINE, STOPPED_LINE } from "./start-script.ts";

export type RunStatusWord = "submitted" | "provisioning" | "running" | "terminating" | "terminated" | "failed" | "done";

export interface RunState {
  status: RunStatusWord;
  /** what `ps` shows: `exited (0)`, `exited (3)`, `stopped`, `error`, or the status */
  message: string;
  exitCode: number | null;
  finished: boolean;
  terminationReason: string | null;
}

/** The line the VMM appends to the serial log at every start of the VM (`===== boot @ … =====`). */
const BOOT_LINE = /^===== boot @ \S+ =====\s*$/;
export const isBootLine = (line: string): boolean => BOOT_LINE.test(line);

/** The serial log since the VM's last start: an exit line of an earlier boot says nothing of this one. */
export function currentBoot(log: string): string {
  const lines = log.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) if (isBootLine(lines[i]!)) return lines.slice(i + 1).join("\n");
  return log;
}

/** How many boots the log shows (its boot lines). */
export function bootCount(log: string): number {
  return log.split("\n").filter(isBootLine).length;
}

export interface RunExit {
  code: number;
  /** max_duration stopped it */
  maxDuration: boolean;
  /** a stop (a guest shutdown: dstack stop, an update) ended it */
  stopped: boolean;
  /** a dev environment's inactivity_duration ended it */
  inactivity: boolean;
}

/** The run's outcome in this boot of its CVM, from its serial log: the last exit line, and what ended the command (max_duration, a stop, a dev environment's inactivity_duration). */
export function exitFromLog(log: string): RunExit | undefined {
  let code: number | undefined;
  let maxDuration = false;
  let stopped = false;
  let inactivity = false;
  for (const line of currentBoot(log).split("\n")) {
    const m = EXIT_LINE.exec(line);
    if (m) code = Number(m[1]);
    else if (line.endsWith(MAX_DURATION_LINE)) maxDuration = true;
    else if (line.endsWith(STOPPED_LINE)) stopped = true;
    else if (line.endsWith(INACTIVITY_LINE)) inactivity = true;
  }
  return code === undefined ? undefined : { code, maxDuration, stopped, inactivity };
}

const done = (status: RunStatusWord, message: string, exitCode: number | null, reason: string | null): RunState => ({
  status,
  message,
  exitCode,
  finished: true,
  terminationReason: reason,
});

export function runState(vm: Pick<VmInfo, "status" | "boot_progress" | "boot_error">, log: string): RunState {
  const exit = exitFromLog(log);
  if (exit) {
    if (exit.maxDuration) return done("terminated", "terminated", exit.code, "max_duration_exceeded");
    if (exit.inactivity) return done("terminated", "terminated", exit.code, "inactivity_duration_exceeded");
    if (exit.stopped) return done("terminated", "stopped", exit.code, "stopped_by_user");
    if (exit.code === 0) return done("done", "exited (0)", 0, "all_jobs_done");
    return done("failed", `exited (${exit.code})`, exit.code, "container_exited_with_error");
  }
  if (vm.boot_error.trim()) return done("failed", "error", null, "creating_container_error");
  switch (vm.status) {
    case "stopped":
      return done("terminated", "stopped", null, "stopped_by_user");
    case "exited":
      return done("failed", "error", null, "instance_unreachable");
    case "stopping":
    case "removing":
      return { status: "terminating", message: "terminating", exitCode: null, finished: false, terminationReason: null };
    case "running": {
      const booted = vm.boot_progress === "done" || vm.boot_progress === "running";
      const s: RunStatusWord = booted ? "running" : "provisioning";
      return { status: s, message: s, exitCode: null, finished: false, terminationReason: null };
    }
    default:
      return { status: "provisioning", message: "provisioning", exitCode: null, finished: false, terminationReason: null };
  }
}

/**
 * The run's command has ended for good while its CVM still runs: the client shuts the CVM
 * down (as dstackai's server terminates a finished run) so its resources are freed; the
 * exit line, the status and the logs stay readable while the VM exists. A failure of a run
 * that retries on errors is not the end (compose's restart: on-failure starts it again).
 */
export function endedButRunning(vm: Pick<VmInfo, "status">, state: RunState, retriesOnError: boolean): boolean {
  if (vm.status !== "running" || !state.finished || state.exitCode === null) return false;
  return !(retriesOnError && state.status === "failed");
}
