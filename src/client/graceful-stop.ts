/** stop and restart: a guest shutdown, waited for, then the power cut if it takes too long. */
import type { VmmClient } from "../core/vmm/client.ts";
import type { VmInfo } from "../core/vmm/types.ts";

const DOWN = new Set(["stopped", "exited"]);

/** Poll until the VM is down or the deadline passes; true when it went down. */
async function waitDown(c: VmmClient, id: string, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const vm = (await c.status({ ids: [id], brief: true })).vms[0];
    if (!vm || DOWN.has(vm.status)) return true;
    if (performance.now() >= deadline) return false;
    await Bun.sleep(50);
  }
}

export interface StopOptions {
  force: boolean;
  timeoutMs: number;
  timeoutText: string;
}

/** Stop one VM; the one-line report: "stopped", or "stopped (why the power was cut)". */
export async function stopVm(c: VmmClient, vm: VmInfo, o: StopOptions): Promise<string> {
  const note = await stopVmNote(c, vm, o);
  return note ? `stopped (${note})` : "stopped";
}

/**
 * Stop one VM. Returns undefined when it stopped as asked, else a note on why the
 * power was cut instead of a guest shutdown (for the one-line report).
 */
export async function stopVmNote(c: VmmClient, vm: VmInfo, o: StopOptions): Promise<string | undefined> {
  if (o.force || vm.status !== "running") {
    await c.stopVm(vm.id);
    return undefined;
  }
  try {
    await c.shutdownVm(vm.id);
  } catch {
    await c.stopVm(vm.id);
    return "the guest refused a shutdown: power cut";
  }
  if (await waitDown(c, vm.id, o.timeoutMs)) return undefined;
  await c.stopVm(vm.id);
  return `no shutdown within ${o.timeoutText}: power cut`;
}

/** How long a guest shutdown may take before the power is cut (docker stop waits 10 s; a CVM takes longer). */
export const STOP_TIMEOUT = "30s";
