/**
 * Attached to a run: wait until its CVM runs, then stream its own lines from
 * the serial console until the exit line (its exit code is the result) or until
 * the caller detaches (Ctrl-C). A finished run's lines are printed at once.
 */
import { appLine } from "../../core/dstack-run/run-log.ts";
import { exitFromLog } from "../../core/dstack-run/run-status.ts";
import { MAX_DURATION_LINE } from "../../core/dstack-run/start-script.ts";
import type { Io } from "../../core/io.ts";
import type { VmmClient } from "../../core/vmm/client.ts";

const POLL_MS = 1000;

export type FollowEnd = { kind: "exited"; code: number; maxDuration: boolean } | { kind: "detached" } | { kind: "vm-down"; status: string };

/**
 * Stream the run's lines to stdout. Resolves when its exit line is seen, when
 * `detach` resolves, or when the VM stops without one.
 */
export async function followRun(c: VmmClient, id: string, io: Io, detach: Promise<void>): Promise<FollowEnd> {
  let buf = "";
  let maxDuration = false;
  let stopped = false;
  const lines = (async (): Promise<FollowEnd> => {
    for await (const chunk of c.logs(id, { follow: true, lines: 100000 })) {
      if (stopped) break;
      buf += chunk;
      let i = buf.indexOf("\n");
      while (i >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const a = appLine(line);
        if (a !== undefined) {
          const exit = exitFromLog(a);
          if (exit) return { kind: "exited", code: exit.code, maxDuration };
          if (a.endsWith(MAX_DURATION_LINE)) maxDuration = true;
          else io.stdout(`${a}\n`);
        }
        i = buf.indexOf("\n");
      }
    }
    const vm = (await c.status({ ids: [id], brief: true })).vms[0];
    return { kind: "vm-down", status: vm?.status ?? "removed" };
  })();
  // A VM that stops without an exit line (power cut, stop) ends the stream too.
  const down = (async (): Promise<FollowEnd> => {
    for (;;) {
      await Bun.sleep(POLL_MS);
      if (stopped) return { kind: "detached" };
      const vm = (await c.status({ ids: [id], brief: true })).vms[0];
      if (!vm || (vm.status !== "running" && vm.status !== "starting")) {
        await Bun.sleep(POLL_MS); // the last lines may still be on their way
        return { kind: "vm-down", status: vm?.status ?? "removed" };
      }
    }
  })();
  try {
    return await Promise.race([lines, down, detach.then((): FollowEnd => ({ kind: "detached" }))]);
  } finally {
    stopped = true;
  }
}
