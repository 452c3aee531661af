/**
 * What the allowlist commands work on: the allowlist (this host's file, or an ssh:// host's
 * through its dstack, under its lock) and the VMM beside it, asked which VMs run each app id
 * (and which hash), and which app a VM runs.
 */
import { normalizeHex } from "../../auth/allowlist.ts";
import { composeHashOf } from "../../core/compose/app-compose.ts";
import { NotFoundError, UsageError } from "../../core/errors.ts";
import { resolveLayout } from "../../core/layout.ts";
import type { VmmClient } from "../../core/vmm/client.ts";
import { isDialHost } from "../../core/vmm/transport-ssh.ts";
import type { VmInfo } from "../../core/vmm/types.ts";
import { selectVm } from "../../core/vmm/vm-select.ts";
import { readClientState } from "../../host/install/state.ts";
import { type EndpointFlags, resolveEndpoint } from "../connect/endpoint.ts";
import { type ClientRun, openClient } from "../connect/session.ts";
import { type AllowlistAccess, fileAllowlist } from "./allowlist-access.ts";

/** A VM of an app: its name and the compose hash it would boot (undefined when the VMM did not say). */
export interface AppVm {
  name: string;
  composeHash: string | undefined;
}

export interface AllowlistSession {
  allowlist: AllowlistAccess;
  /** The ssh:// host, when the allowlist is a remote host's. */
  host?: string;
  /** The VMM (for a local file: opened on first use, `timeoutMs` per call). */
  vmm(timeoutMs?: number): Promise<VmmClient>;
  close(): void;
}

/**
 * The allowlist of the endpoint the flags name: an ssh:// host's own (the connection opened
 * now, since the file is reached through it), else the local file (--allowlist, the install's),
 * readable with no VMM at all.
 */
export async function openAllowlist(args: EndpointFlags, run: ClientRun): Promise<AllowlistSession> {
  let host: string | undefined;
  try {
    host = resolveEndpoint(args, run.env).host;
  } catch (e) {
    if (!(e instanceof NotFoundError)) throw e; // no endpoint at all: the local file is still listed
  }
  if (host && isDialHost(host)) {
    const { c, ep } = await openClient(args, run);
    return { allowlist: ep.allowlist, host, vmm: async () => c, close: () => c.close() };
  }
  let c: VmmClient | undefined;
  return {
    allowlist: fileAllowlist(args.allowlist ?? localAllowlistPath(args.prefix)),
    async vmm(timeoutMs) {
      c ??= (await openClient(args, run, timeoutMs ? { timeoutMs } : {})).c;
      return c;
    },
    close: () => c?.close(),
  };
}

/** The install's allowlist (its state's, else the layout's). */
function localAllowlistPath(prefix: string | undefined): string {
  const layout = resolveLayout({ prefix });
  return readClientState(layout.stateFile)?.allowlistPath ?? layout.allowlistPath;
}

/**
 * The VMs of each app id (normalised), with the compose hash each would boot, asked of the VMM
 * (3 s at most, full Status), so that `ls` can say which hash is which VM's. undefined, with the
 * reason, when the VMM cannot be asked: the allowlist is listed either way.
 */
export async function vmsByApp(s: AllowlistSession): Promise<{ vms?: Map<string, AppVm[]>; why?: string }> {
  try {
    const vms = new Map<string, AppVm[]>();
    for (const vm of (await (await s.vmm(3000)).status({ brief: false })).vms) {
      if (!vm.app_id || vm.status === "removing") continue;
      const id = normalizeHex(vm.app_id);
      const composeHash = vm.configuration ? composeHashOf(vm.configuration.compose_file) : undefined;
      vms.set(id, [...(vms.get(id) ?? []), { name: vm.name, composeHash }]);
    }
    return { vms };
  } catch (e) {
    return { why: (e as Error).message };
  }
}

const APP_ID = /^(0x)?[0-9a-f]{40}$/i;

/** An app id as given, or the app id of the VM named (or id-prefixed) by `ref`, asked of the VMM. */
export async function appIdOf(ref: string, s: AllowlistSession): Promise<{ appId: string; vm?: string }> {
  if (APP_ID.test(ref.trim())) return { appId: ref.trim() };
  if (/^(0x)?[0-9a-f]{41,}$/i.test(ref.trim())) {
    throw new UsageError(`APP ${JSON.stringify(ref)}: an app id has 40 hex characters (a compose hash goes in --hash)`, {
      hint: "see `dstack allowlist ls`",
    });
  }
  const vms = (await (await s.vmm()).status({ brief: true })).vms;
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
}
