/** start, restart and upgrade --restart: wait for the boot as run does, and fail with the VM's reason. */

import { DstackError } from "../../core/errors.ts";
import type { Io } from "../../core/io.ts";
import type { VmmClient } from "../../core/vmm/client.ts";
import type { VmInfo } from "../../core/vmm/types.ts";
import { progressLine } from "../progress-line.ts";
import { waitBoot } from "./deploy.ts";

/** Wait until booted; throws a DstackError with the reason from the VM's log, or the timeout. */
export async function waitBooted(c: VmmClient, vm: Pick<VmInfo, "id" | "name">, timeoutMs: number, io: Io, quiet: boolean): Promise<void> {
  const pr = progressLine(io, quiet);
  try {
    const b = await waitBoot(c, vm.id, timeoutMs, (m) => pr.line(`${vm.name}: ${m}`));
    if (b.ok) return;
    if (b.timedOut) {
      throw new DstackError(
        `started, but the boot has not finished within ${Math.round(timeoutMs / 1000)} s (${b.reason}); it keeps booting`,
        {
          hint: `follow it with \`dstack logs -f ${vm.name}\``,
        },
      );
    }
    throw new DstackError(`boot failed: ${b.reason}`, { hint: `dstack logs ${vm.name}` });
  } finally {
    pr.done();
  }
}
