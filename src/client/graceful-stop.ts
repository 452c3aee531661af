/** stop and restart: a guest shutdown, waited for, then the power cut if it takes too long. */
import type { VmmClient } from "../core/vmm/client.ts";
import type { VmInfo } from "../core/vmm/types.ts";

/**
 * Poll until the guest is down or the deadline passes: "stopped" (or gone), "exited" (the
 * guest went down, but the VMM still counts it started), or "timeout".
 */
async function waitDown(c: VmmClient, id: string, timeoutMs: number): Promise<"stopped" | "exited" | "timeout"> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const vm = (await c.status({ ids: [id], brief: true })).vms[0];
    if (!vm || vm.status === "stopped") return "stopped";
    if (vm.status === "exited") return "exited";
    if (performance.now() >= deadline) return "timeout";
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
  // not running: StopVm, even when "exited" (see below)
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
  const down = await waitDown(c, vm.id, o.timeoutMs);
  // An exited VM is still started to the VMM: with [cvm.auto_restart] (which dstackup renders) it
  // boots it again. StopVm clears that; the guest is down already, so it is no power cut.
  if (down !== "timeout") {
    if (down === "exited") await c.stopVm(vm.id);
    return undefined;
  }
  await c.stopVm(vm.id);
  return `no shutdown within ${o.timeoutText}: power cut`;
}

/** How long a guest shutdown may take before the power is cut (docker stop waits 10 s; a CVM takes longer). */
export const STOP_TIMEOUT = "30s";
