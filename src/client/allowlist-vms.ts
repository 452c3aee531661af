/** The allowlist commands' questions to the VMM: which VMs run each app id, and which app a VM runs. */
import { normalizeHex } from "../auth/allowlist.ts";
import { NotFoundError, UsageError } from "../core/errors.ts";
import type { VmInfo } from "../core/vmm/types.ts";
import { selectVm } from "../core/vmm/vm-select.ts";
import type { EndpointFlags } from "./endpoint.ts";
import { type ClientRun, openClient } from "./session.ts";

/**
 * The names of the VMs running each app id, asked of the VMM (3 s at most), so that `ls` can say
 * which app id is which VM. undefined, with the reason, when the VMM cannot be asked: the
 * allowlist is a local file and is listed either way.
 */
export async function vmNamesByApp(args: EndpointFlags, run: ClientRun): Promise<{ names?: Map<string, string[]>; why?: string }> {
  try {
    const { c } = await openClient(args, run, { timeoutMs: 3000 });
    try {
      const names = new Map<string, string[]>();
      for (const vm of (await c.status({ brief: true })).vms) {
        if (!vm.app_id) continue;
        const id = normalizeHex(vm.app_id);
        names.set(id, [...(names.get(id) ?? []), vm.name]);
      }
      return { names };
    } finally {
      c.close();
    }
  } catch (e) {
    return { why: (e as Error).message };
  }
}

const APP_ID = /^(0x)?[0-9a-f]{40}$/i;

/** An app id as given, or the app id of the VM named (or id-prefixed) by `ref`, asked of the VMM. */
export async function appIdOf(ref: string, args: EndpointFlags, run: ClientRun): Promise<{ appId: string; vm?: string }> {
  if (APP_ID.test(ref.trim())) return { appId: ref.trim() };
  if (/^(0x)?[0-9a-f]{41,}$/i.test(ref.trim())) {
    throw new UsageError(`APP ${JSON.stringify(ref)}: an app id has 40 hex characters (a compose hash goes in --hash)`, {
      hint: "see `dstack allowlist ls`",
    });
  }
  const { c } = await openClient(args, run);
  try {
    const vms = (await c.status({ brief: true })).vms;
    let vm: VmInfo;
    try {
      vm = selectVm(vms, ref);
    } catch (e) {
      if (e instanceof NotFoundError) {
        throw new NotFoundError(`"${ref}" is neither an app id (40 hex characters) nor the name or id prefix of a VM`, {
          hint: "see `dstack allowlist ls` and `dstack ps -a`",
        });
      }
      throw e;
    }
    if (!vm.app_id)
      throw new NotFoundError(`VM ${vm.name} (${vm.id.slice(0, 8)}) has no app id`, {
        hint: "give the app id (see `dstack allowlist ls`)",
      });
    return { appId: vm.app_id, vm: vm.name };
  } finally {
    c.close();
  }
}
