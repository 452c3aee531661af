/** stop and restart: a guest shutdown, waited for, then the power cut if it takes too long. */
import type { VmmClient } from "../../core/vmm/client.ts";
import type { VmInfo } from "../../core/vmm/types.ts";

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

/** Stop one VM; the result says how (for the one-line report). */
export async function stopVm(c: VmmClient, vm: VmInfo, o: { force: boolean; timeoutMs: number; timeoutText: string }): Promise<string> {
  if (o.force || vm.status !== "running") {
    await c.stopVm(vm.id);
    return "stopped";
  }
  try {
    await c.shutdownVm(vm.id);
  } catch {
    await c.stopVm(vm.id);
    return "stopped (the guest refused a shutdown: power cut)";
  }
  if (await waitDown(c, vm.id, o.timeoutMs)) return "stopped";
  await c.stopVm(vm.id);
  return `stopped (no shutdown within ${o.timeoutText}: power cut)`;
}

export const stopArgs = {
  force: { type: "boolean", alias: "f", description: "Cut the power at once instead of a guest shutdown" },
  timeout: { type: "string", alias: "t", default: "30s", description: "How long a guest shutdown may take before the power is cut" },
} as const;
