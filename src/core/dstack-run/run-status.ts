/**
 * A declarative run's status in dstackai's words (`RunStatus` and the job status
 * messages of `dstack ps`), from what a dstack host can see: the CVM's state and
 * the run's exit line on the serial console (start-script.ts).
 */

import { INACTIVITY_LINE } from "../dev-env/cvm/dev-script.ts";
import type { VmInfo } from "../vmm/types.ts";
import { EXIT_LINE, MAX_DURATION_LINE } from "./start-script.ts";

export type RunStatusWord = "submitted" | "provisioning" | "running" | "terminating" | "terminated" | "failed" | "done";

export interface RunState {
  status: RunStatusWord;
  /** what `ps` shows: `exited (0)`, `exited (3)`, `stopped`, `error`, or the status */
  message: string;
  exitCode: number | null;
  finished: boolean;
  terminationReason: string | null;
}

/** The run's outcome from its serial log: the last exit line, and whether max_duration or a dev environment's inactivity_duration stopped it. */
export function exitFromLog(log: string): { code: number; maxDuration: boolean; inactivity: boolean } | undefined {
  let code: number | undefined;
  let maxDuration = false;
  let inactivity = false;
  for (const line of log.split("\n")) {
    const m = EXIT_LINE.exec(line);
    if (m) code = Number(m[1]);
    else if (line.endsWith(MAX_DURATION_LINE)) maxDuration = true;
    else if (line.endsWith(INACTIVITY_LINE)) inactivity = true;
  }
  return code === undefined ? undefined : { code, maxDuration, inactivity };
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
