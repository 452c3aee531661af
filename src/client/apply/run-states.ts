/**
 * Each declarative run among some VMs with its state, read from its serial console's tail;
 * a run whose command has ended while its CVM still runs has that CVM shut down here (the
 * client is the only one that reads the exit line: no server watches the run), so the first
 * `dstack ps` after a detached run ends frees its resources.
 */
import { retriesOnError } from "../../core/dstack-run/run-description.ts";
import { endedButRunning, type RunState, runState } from "../../core/dstack-run/run-status.ts";
import type { VmmClient } from "../../core/vmm/client.ts";
import type { VmInfo } from "../../core/vmm/types.ts";
import { describeVm } from "./runs.ts";

const TAIL_LINES = 400;

export async function serialTail(c: VmmClient, id: string, lines = TAIL_LINES): Promise<string> {
  let log = "";
  try {
    for await (const chunk of c.logs(id, { lines })) log += chunk;
  } catch {
    /* no log yet */
  }
  return log;
}

/**
 * vm id → its run's state, for the VMs that are declarative runs (full Status records).
 * Ended runs whose CVM still runs are asked to shut down (ShutdownVm, not waited for).
 */
export async function runStates(c: VmmClient, vms: VmInfo[]): Promise<Map<string, RunState>> {
  const out = new Map<string, RunState>();
  await Promise.all(
    vms.map(async (vm) => {
      const d = vm.status === "removing" ? undefined : describeVm(vm);
      if (!d) return;
      const state = runState(vm, await serialTail(c, vm.id));
      out.set(vm.id, state);
      if (endedButRunning(vm, state, retriesOnError(d))) await c.shutdownVm(vm.id).catch(() => {});
    }),
  );
  return out;
}
