/**
 * RemoveVm is asynchronous (the VMM marks the VM `removing`, stops it and deletes it in the
 * background): until it is gone its name, ports and CIDs are still taken. rm, delete and a
 * re-created run wait here, so what they print is true once they return.
 */
import { DstackError } from "../core/errors.ts";
import type { VmmClient } from "../core/vmm/client.ts";

export async function waitGone(c: VmmClient, id: string, what = "the VM", timeoutMs = 60_000): Promise<void> {
  for (const until = Date.now() + timeoutMs; Date.now() < until; await Bun.sleep(100)) {
    if (!(await c.status({ ids: [id], brief: true })).vms.length) return;
  }
  throw new DstackError(`${what} was not removed within ${Math.round(timeoutMs / 1000)} s (the VMM is still removing it)`, {
    hint: "see `dstack ps -a`",
  });
}
