/**
 * Attached to a run: wait until its CVM runs, then stream its own lines of this boot from
 * the serial console (earlier boots — before an update, a restart — are skipped) until the
 * exit line (its exit code is the result) or until the caller detaches (Ctrl-C). A dev
 * environment's host-key announcement (a quote in base64) is not printed.
 */
import { INACTIVITY_LINE } from "../../core/dev-env/cvm/dev-script.ts";
import { HOST_KEY_LINE_PREFIX } from "../../core/dev-env/host-key-line.ts";
import { appLine } from "../../core/dstack-run/run-log.ts";
import { bootCount, exitFromLog, isBootLine, type RunExit } from "../../core/dstack-run/run-status.ts";
import { MAX_DURATION_LINE, STOPPED_LINE } from "../../core/dstack-run/start-script.ts";
import type { Io } from "../../core/io.ts";
import { pollEvery } from "../../core/knobs.ts";
import type { VmmClient } from "../../core/vmm/client.ts";
import { serialTail } from "./run-states.ts";

/** How often the VM is asked whether it still runs (the pollMs knob shortens it for tests). */
const POLL_MS = 1000;
const ALL_LINES = 100000;

export type FollowEnd = ({ kind: "exited" } & RunExit) | { kind: "detached" } | { kind: "vm-down"; status: string };

/**
 * Stream the run's lines to stdout. Resolves when its exit line is seen, when
 * `detach` resolves, or when the VM stops without one.
 */
export async function followRun(c: VmmClient, id: string, io: Io, detach: Promise<void>): Promise<FollowEnd> {
  // the stream starts at the same line as this read: skip its boots but the last
  const skipBoots = Math.max(0, bootCount(await serialTail(c, id, ALL_LINES)) - 1);
  let boots = 0;
  let buf = "";
  let maxDuration = false;
  let stopped = false;
  let inactivity = false;
  let done = false;
  const down = () => endOfVm(c, id);
  const lines = (async (): Promise<FollowEnd> => {
    for await (const chunk of c.logs(id, { follow: true, lines: ALL_LINES })) {
      if (done) break;
      buf += chunk;
      let i = buf.indexOf("\n");
      while (i >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        i = buf.indexOf("\n");
        if (isBootLine(line)) boots++;
        const a = boots > skipBoots ? appLine(line) : undefined;
        if (a === undefined) continue;
        const exit = exitFromLog(a);
        if (exit) return { kind: "exited", code: exit.code, maxDuration, stopped, inactivity };
        if (a.endsWith(MAX_DURATION_LINE)) maxDuration = true;
        else if (a.endsWith(STOPPED_LINE)) stopped = true;
        else if (!a.startsWith(HOST_KEY_LINE_PREFIX)) {
          // (a dev environment's host-key quote is attach's, not the user's)
          if (a.endsWith(INACTIVITY_LINE)) inactivity = true;
          io.stdout(`${a}\n`);
        }
      }
    }
    return await down();
  })();
  const watch = pollVmDown(c, id, () => done, down);
  try {
    return await Promise.race([lines, watch, detach.then((): FollowEnd => ({ kind: "detached" }))]);
  } finally {
    done = true;
  }
}

/** A VM that stops without an exit line (power cut, stop) ends the stream too; its exit line may be in the log by then. */
async function endOfVm(c: VmmClient, id: string): Promise<FollowEnd> {
  const vm = (await c.status({ ids: [id], brief: true })).vms[0];
  const exit = exitFromLog(await serialTail(c, id));
  if (exit) return { kind: "exited", ...exit };
  return { kind: "vm-down", status: vm?.status ?? "removed" };
}

async function pollVmDown(c: VmmClient, id: string, done: () => boolean, down: () => Promise<FollowEnd>): Promise<FollowEnd> {
  for (;;) {
    await Bun.sleep(pollEvery(POLL_MS));
    if (done()) return { kind: "detached" };
    const vm = (await c.status({ ids: [id], brief: true })).vms[0];
    if (!vm || (vm.status !== "running" && vm.status !== "starting")) {
      await Bun.sleep(pollEvery(POLL_MS)); // the last lines may still be on their way
      return await down();
    }
  }
}

/** Attached without the logs (a dev environment): until the VM stops (or is removed), or `detach` resolves. */
export async function waitVmDown(c: VmmClient, id: string, detach: Promise<void>): Promise<FollowEnd> {
  let done = false;
  try {
    return await Promise.race([
      pollVmDown(
        c,
        id,
        () => done,
        () => endOfVm(c, id),
      ),
      detach.then((): FollowEnd => ({ kind: "detached" })),
    ]);
  } finally {
    done = true;
  }
}
