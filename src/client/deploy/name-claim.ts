/**
 * At most one VM per name, however many `dstack run -n NAME` race, through any
 * endpoint. The VMM does not refuse a duplicate name (upstream's names are
 * labels) and a lock on this host does not bind another client, so the claim
 * is made with the VMM's own state, in the order its calls take effect:
 *
 *   1. CreateVm with `stopped: true` (a VM that never runs unless it wins);
 *   2. Status: if no other VM bears the name, the name is ours;
 *   3. otherwise remove our VM, and: another VM that is not `stopped` (it
 *      started, so its claim won) means the name is taken; only `stopped` ones
 *      are contenders in the middle of this very protocol, so back off for a
 *      random while and try again once none is left.
 *
 * Why at most one wins: of two winners, take the one whose Status came first.
 * The other's VM was created before its own Status, which came after that
 * first Status... the first winner's VM was in the table from its CreateVm on
 * and a winner never removes it, so the later Status saw it and could not
 * have won. Why someone wins: contenders back off at random, so one soon
 * creates and checks alone. A loser leaves nothing behind: its VM never ran,
 * nothing was registered for it, and it is removed before it gives up.
 */
import { DstackError } from "../../core/errors.ts";
import type { VmmClient } from "../../core/vmm/client.ts";
import type { VmInfo } from "../../core/vmm/types.ts";

/** The one error every run that loses the name gets. */
export function nameTaken(name: string, vm: Pick<VmInfo, "id" | "status">): DstackError {
  return new DstackError(`a VM named "${name}" already exists (${vm.id}, ${vm.status})`, {
    hint: `update it with \`dstack upgrade ${name} …\`, remove it with \`dstack rm -f ${name}\`, or pick another --name`,
  });
}

/** The VMs bearing `name` that are not being removed, in the VMM's order. */
export async function vmsNamed(c: VmmClient, name: string): Promise<VmInfo[]> {
  const st = await c.status({ brief: true, ...(name ? { keyword: name } : {}) });
  return st.vms.filter((v) => v.name === name && v.status !== "removing");
}

export interface ClaimOptions {
  /** Tries before giving up (default 20). */
  attempts?: number;
  /** Back-off base in ms (default 20): a try waits a random time up to base × try number. */
  backoffMs?: number;
  random?: () => number;
  progress?: (m: string) => void;
}

/**
 * Create the VM (stopped) through `create` and make sure it is the only one
 * named `name`; returns its id, still stopped. Throws nameTaken when another
 * VM has the name, having removed its own.
 */
export async function claimName(c: VmmClient, name: string, create: () => Promise<string>, o: ClaimOptions = {}): Promise<string> {
  const attempts = o.attempts ?? 20;
  const rand = o.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    const id = await create();
    const others = (await vmsNamed(c, name)).filter((v) => v.id !== id);
    if (others.length === 0) return id;
    await c.removeVm(id);
    const winner = others.find((v) => v.status !== "stopped");
    if (winner) throw nameTaken(name, winner);
    // Only contenders (stopped, in the middle of their own claim): wait until they are gone.
    for (;;) {
      if (attempt >= attempts) {
        throw new DstackError(`could not claim the name "${name}": ${attempts} tries raced other runs for it`, {
          hint: `see \`dstack ps -a\`; run again, or pick another --name`,
        });
      }
      o.progress?.(`another run is claiming the name "${name}"; trying again`);
      await Bun.sleep(Math.floor(rand() * (o.backoffMs ?? 20) * attempt) + 1);
      const now = await vmsNamed(c, name);
      const started = now.find((v) => v.status !== "stopped");
      if (started) throw nameTaken(name, started);
      if (now.length === 0) break;
      attempt++;
    }
  }
}
