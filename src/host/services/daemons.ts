/**
 * Detached daemons for hosts without systemd as PID 1 (--simulate on a laptop,
 * a container): each daemon runs in its own session with a pidfile and a log
 * file under the layout's run dir. A pidfile only counts while /proc/<pid>
 * still runs the same command line, so a recycled pid is never mistaken for ours.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { writeAtomic } from "../../core/fsutil.ts";

export interface DaemonSpec {
  /** Unit-like name, e.g. dstack-vmm-x-1234abcd */
  name: string;
  argv: string[];
  runDir: string;
  cwd: string;
}

export const pidFileOf = (runDir: string, name: string) => join(runDir, `${name}.pid`);
export const logFileOf = (runDir: string, name: string) => join(runDir, `${name}.log`);

interface PidRecord {
  pid: number;
  argv: string[];
  startedAt: string;
}

function readPidRecord(pidFile: string): PidRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(pidFile, "utf8")) as PidRecord;
    return typeof r.pid === "number" && Array.isArray(r.argv) ? r : undefined;
  } catch {
    return undefined;
  }
}

function cmdlineOf(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8")
      .split("\0")
      .filter((s) => s !== "");
  } catch {
    return undefined;
  }
}

/** The pid of the daemon if it is running (pidfile + matching command line). */
export function daemonPid(runDir: string, name: string): number | undefined {
  const rec = readPidRecord(pidFileOf(runDir, name));
  if (!rec) return undefined;
  const cmd = cmdlineOf(rec.pid);
  if (!cmd) return undefined;
  // argv[0] may be resolved differently by the kernel; compare the arguments.
  const same = cmd.length === rec.argv.length && cmd.slice(1).every((a, i) => a === rec.argv[i + 1]);
  return same ? rec.pid : undefined;
}

export function daemonStartedAt(runDir: string, name: string): string | undefined {
  return readPidRecord(pidFileOf(runDir, name))?.startedAt;
}

/** The argv recorded for the daemon (to tell whether its command changed). */
export function daemonArgv(runDir: string, name: string): string[] | undefined {
  return readPidRecord(pidFileOf(runDir, name))?.argv;
}

export function startDaemon(spec: DaemonSpec): number {
  mkdirSync(spec.runDir, { recursive: true, mode: 0o755 });
  const logFile = logFileOf(spec.runDir, spec.name);
  mkdirSync(dirname(logFile), { recursive: true });
  const fd = openSync(logFile, "a", 0o640);
  // The daemon makes its files with the usual 022 umask, not the installer's (under `umask 000` the
  // simulator's VM dirs would be 0777 and its logs 0666); systemd gives its services 022 as well.
  const callerUmask = process.umask(0o022);
  try {
    const proc = Bun.spawn(spec.argv, {
      cwd: spec.cwd,
      detached: true,
      stdin: "ignore",
      stdout: fd,
      stderr: fd,
      env: { ...process.env, NO_COLOR: "1" },
    });
    proc.unref();
    const rec: PidRecord = { pid: proc.pid, argv: spec.argv, startedAt: new Date().toISOString() };
    writeAtomic(pidFileOf(spec.runDir, spec.name), `${JSON.stringify(rec)}\n`, { mode: 0o644 });
    return proc.pid;
  } finally {
    process.umask(callerUmask);
    closeSync(fd);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/\) Z /.test(stat);
  } catch {
    return false;
  }
}

/** SIGTERM, wait up to timeoutMs, then SIGKILL. Removes the pidfile. Returns whether it was running. */
export async function stopDaemon(runDir: string, name: string, timeoutMs = 5000): Promise<boolean> {
  const pid = daemonPid(runDir, name);
  const pidFile = pidFileOf(runDir, name);
  if (pid === undefined) {
    if (existsSync(pidFile)) rmSync(pidFile, { force: true });
    return false;
  }
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    /* already gone */
  }
  const deadline = performance.now() + timeoutMs;
  while (alive(pid) && performance.now() < deadline) await Bun.sleep(25);
  if (alive(pid)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* gone */
    }
    while (alive(pid)) await Bun.sleep(10);
  }
  rmSync(pidFile, { force: true });
  return true;
}
