/** The allowlist commands' questions to the VMM: which VMs run each app id (and which hash), and which app a VM runs. */
import { normalizeHex } from "../auth/allowlist.ts";
import { composeHashOf } from "../core/compose/app-compose.ts";
import { NotFoundError, UsageError } from "../core/errors.ts";
import type { VmInfo } from "../core/vmm/types.ts";
import { selectVm } from "../core/vmm/vm-select.ts";
import type { EndpointFlags } from "./endpoint.ts";
import { type ClientRun, openClient } from "./session.ts";

/** A VM of an app: its name and the compose hash it would boot (undefined when the VMM did not say). */
export interface AppVm {
  name: string;
  composeHash: string | undefined;
}

/**
 * The VMs of each app id (normalised), with the compose hash each would boot, asked of the VMM
 * (3 s at most, full Status), so that `ls` can say which hash is which VM's. undefined, with the
 * reason, when the VMM cannot be asked: the allowlist is a local file and is listed either way.
 */
export async function vmsByApp(args: EndpointFlags, run: ClientRun): Promise<{ vms?: Map<string, AppVm[]>; why?: string }> {
  try {
    const { c } = await openClient(args, run, { timeoutMs: 3000 });
    try {
      const vms = new Map<string, AppVm[]>();
      for (const vm of (await c.status({ brief: false })).vms) {
        if (!vm.app_id || vm.status === "removing") continue;
        const id = normalizeHex(vm.app_id);
        const composeHash = vm.configuration ? composeHashOf(vm.configuration.compose_file) : undefined;
        vms.set(id, [...(vms.get(id) ?? []), { name: vm.name, composeHash }]);
      }
      return { vms };
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
