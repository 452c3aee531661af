/**
 * System VMs: the CVMs an install runs for itself (the KMS). dstackup marks one in its
 * `user_config` (upstream: free-form, unmeasured, placed at /dstack/.host-shared/.user-config;
 * the guest parses only `dstack.launch_token`, so the marker lives under its own key), which
 * every client sees through the VMM API; `dstack` refuses to stop, remove or upgrade it.
 */
import { RefusedError } from "../errors.ts";
import type { VmInfo } from "./types.ts";

const KEY = "dstackup";

/** The user_config of a system VM with this role ("kms"). */
export function systemUserConfig(role: string): string {
  return JSON.stringify({ [KEY]: { system: role } });
}

/** The role a VM's user_config marks it with, if any. */
export function systemRoleOf(userConfig: string | undefined): string | undefined {
  if (!userConfig) return undefined;
  try {
    const role = (JSON.parse(userConfig) as Record<string, { system?: unknown } | undefined>)[KEY]?.system;
    return typeof role === "string" && role !== "" ? role : undefined;
  } catch {
    return undefined; // an app's own user_config: not ours to judge
  }
}

export function systemRole(vm: Pick<VmInfo, "configuration">): string | undefined {
  return systemRoleOf(vm.configuration?.user_config);
}

/** Throw (exit 4) when `vm` is a system VM: `verb` is what was asked ("stop", "remove", "upgrade"). */
export function refuseSystemVm(vm: Pick<VmInfo, "configuration" | "name" | "id">, verb: string): void {
  const role = systemRole(vm);
  if (!role) return;
  throw new RefusedError(
    `${vm.name} (${vm.id.slice(0, 8)}) is this host's ${role.toUpperCase()} CVM, a system VM: dstack does not ${verb} it`,
    {
      hint: "dstackup manages it: `dstackup install` updates or restarts it, `dstackup destroy` removes it with the install",
    },
  );
}
