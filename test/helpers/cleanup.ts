/**
 * What the test helpers start — a simulator process, a simulated install's detached daemons, an
 * in-process simulator — is stopped even when the test that started it fails or times out before
 * its own cleanup, or the run is interrupted:
 *
 * - a helper registers each thing it starts with how to stop it (`stop`, thorough and async: a
 *   `dstackup destroy --purge`, a SIGTERM and wait) and which processes it is (`processes`, read
 *   when needed: a reinstall changes the daemons' pids); stopping it unregisters it;
 * - test/preload.ts stops what is still registered when the run's tests are done (afterAll);
 * - on SIGINT, SIGTERM or SIGHUP, and at exit, the processes still registered are killed at once.
 *
 * A SIGKILL of the test run itself cannot be answered from inside it.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface Tracked {
  stop(): Promise<unknown>;
  /** the processes it amounts to: a pid, and a word its command line must hold (a recycled pid is left alone) */
  processes(): { pid: number; mark: string }[];
}

const tracked = new Set<Tracked>();

/** Register `t`; the function returned stops it (once, however often it is called) and unregisters it. */
export function track(t: Tracked): () => Promise<void> {
  tracked.add(t);
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= t.stop().then(
      () => void tracked.delete(t),
      (e) => {
        tracked.delete(t);
        throw e;
      },
    );
    return stopping;
  };
}

/** Stop everything still registered (test/preload.ts's afterAll). */
export async function stopAllTracked(): Promise<void> {
  for (const t of [...tracked]) {
    try {
      await t.stop();
    } catch {
      /* killed below if it still runs */
    }
  }
  killTracked();
}

/** The detached daemons of an install under `prefix`: the pids in its run dir's pidfiles. */
export function daemonsUnder(prefix: string): { pid: number; mark: string }[] {
  const run = join(prefix, "run/dstack");
  let names: string[];
  try {
    names = readdirSync(run).filter((n) => n.endsWith(".pid"));
  } catch {
    return [];
  }
  return names.flatMap((n) => {
    try {
      const rec = JSON.parse(readFileSync(join(run, n), "utf8")) as { pid?: unknown };
      return typeof rec.pid === "number" ? [{ pid: rec.pid, mark: prefix }] : [];
    } catch {
      return [];
    }
  });
}

/** Does `pid` still run, with `mark` in its command line (not a recycled pid, not a zombie)? */
export function isRunning({ pid, mark }: { pid: number; mark: string }): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").includes(mark);
  } catch {
    return false;
  }
}

/** SIGKILL every registered process that still runs what it ran (synchronous: fit for an exit hook). */
function killTracked(): void {
  for (const t of tracked) {
    for (const p of t.processes()) {
      if (!isRunning(p)) continue;
      try {
        process.kill(p.pid, "SIGKILL");
      } catch {
        /* gone meanwhile */
      }
    }
  }
}

process.on("exit", killTracked);
for (const [signal, n] of [
  ["SIGINT", 2],
  ["SIGTERM", 15],
  ["SIGHUP", 1],
] as const) {
  process.on(signal, () => {
    killTracked();
    process.exit(128 + n);
  });
}
