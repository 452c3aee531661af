/** Each declarative run among some VMs with its state, read from its serial console's tail. */
import { type RunState, runState } from "../../core/dstack-run/run-status.ts";
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

/** vm id → its run's state, for the VMs that are declarative runs (full Status records). */
export async function runStates(c: VmmClient, vms: VmInfo[]): Promise<Map<string, RunState>> {
  const out = new Map<string, RunState>();
  await Promise.all(
    vms.map(async (vm) => {
      if (vm.status === "removing" || !describeVm(vm)) return;
      out.set(vm.id, runState(vm, await serialTail(c, vm.id)));
    }),
  );
  return out;
}
