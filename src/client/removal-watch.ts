/** Noticing that a VM went away while something follows it (`logs -f`): its Status is asked every `everyMs`. */
import { pollEvery } from "../core/knobs.ts";
import type { VmmClient } from "../core/vmm/client.ts";

export function watchRemoval(c: VmmClient, id: string, everyMs = pollEvery(1000)): { removed: Promise<"removed">; stop: () => void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const removed = new Promise<"removed">((resolve) => {
    const check = async () => {
      if (stopped) return;
      try {
        const vm = (await c.status({ ids: [id], brief: true })).vms[0];
        if (!vm || vm.status === "removing") return resolve("removed");
      } catch {
        /* the VMM did not answer: the log stream says what happened to it */
      }
      if (!stopped) timer = setTimeout(check, everyMs);
    };
    timer = setTimeout(check, everyMs);
  });
  return {
    removed,
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
