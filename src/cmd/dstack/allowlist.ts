import { normalizeHex } from "../../auth/allowlist.ts";
import { readAllowlistFile, revokeApp } from "../../auth/allowlist-file.ts";
import type { EndpointFlags } from "../../client/endpoint.ts";
import { type ClientRun, openClient } from "../../client/session.ts";
import { NotFoundError, UsageError } from "../../core/errors.ts";
import { out } from "../../core/io.ts";
import { resolveLayout } from "../../core/layout.ts";
import { formatJson, formatTable } from "../../core/output.ts";
import type { VmInfo } from "../../core/vmm/types.ts";
import { selectVm } from "../../core/vmm/vm-select.ts";
import { readClientState } from "../../host/install/state.ts";
import { clientArgs } from "../shared/args.ts";
import { defineCommand } from "../shared/command.ts";
import { clientRun, createLogger } from "../shared/log.ts";

const allowlistArg = { allowlist: { type: "string", description: "Allowlist file (default: the install's)", valueHint: "PATH" } } as const;

function pathOf(args: { prefix?: string; allowlist?: string }): string {
  if (args.allowlist) return args.allowlist;
  const layout = resolveLayout({ prefix: args.prefix });
  return readClientState(layout.stateFile)?.allowlistPath ?? layout.allowlistPath;
}

/**
 * The names of the VMs running each app id, asked of the VMM (3 s at most), so that `ls` can say
 * which app id is which VM. undefined, with the reason, when the VMM cannot be asked: the
 * allowlist is a local file and is listed either way.
 */
async function vmNamesByApp(args: EndpointFlags, run: ClientRun): Promise<{ names?: Map<string, string[]>; why?: string }> {
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

const ls = defineCommand({
  meta: {
    name: "ls",
    alias: ["list"],
    description: "What may get keys: pinned OS images, apps and their compose hashes, and the VMs running them",
  },
  args: { ...allowlistArg, ...clientArgs },
  async run({ args, io, env }) {
    const path = pathOf(args);
    const l = readAllowlistFile(path);
    const { names, why } = await vmNamesByApp(args, clientRun({ io, env, args }));
    const vmsOf = (id: string) => names?.get(normalizeHex(id)) ?? [];
    if (args.json) {
      out(io, formatJson({ path, ...l, vms: names ? Object.fromEntries(Object.keys(l.apps).map((id) => [id, vmsOf(id)])) : null }));
      return;
    }
    if (!names) createLogger(io, args).info(`VM names left out: the VMM could not be asked (${why})`);
    const rows = Object.entries(l.apps).flatMap(([id, r]) =>
      (r.composeHashes.length ? r.composeHashes : ["(none)"]).map((h) => ({ id, h, vms: vmsOf(id).join(",") || "-" })),
    );
    const cols = [
      { header: "APP ID", get: (r: (typeof rows)[number]) => r.id },
      { header: "COMPOSE HASH", get: (r: (typeof rows)[number]) => r.h },
    ];
    if (names) cols.push({ header: "VMS", get: (r) => r.vms });
    out(io, `${path}\nos images: ${l.osImages.join(", ") || "any (not pinned)"}\n${formatTable(rows, cols)}`);
  },
});

const APP_ID = /^(0x)?[0-9a-f]{40}$/i;

/** An app id as given, or the app id of the VM named (or id-prefixed) by `ref`, asked of the VMM. */
async function appIdOf(ref: string, args: EndpointFlags, run: ClientRun): Promise<{ appId: string; vm?: string }> {
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

const revoke = defineCommand({
  meta: { name: "revoke", description: "Withdraw an app (or one compose hash of it): its next boot is denied keys" },
  args: {
    app: {
      type: "positional",
      required: true,
      description: "App id, or the name or id prefix of a VM running the app",
      valueHint: "APP_ID|VM",
    },
    hash: { type: "string", description: "Only this compose hash" },
    ...allowlistArg,
    ...clientArgs,
  },
  async run({ args, io, env }) {
    const path = pathOf(args);
    if (args.hash !== undefined && !/^(0x)?[0-9a-f]{64}$/i.test(String(args.hash).trim())) {
      throw new UsageError(
        `--hash ${JSON.stringify(args.hash)}: expected a compose hash of 64 hex characters (see \`dstack allowlist ls\`)`,
      );
    }
    const { appId, vm } = await appIdOf(String(args.app), args, clientRun({ io, env, args }));
    const what = `${args.hash ? `compose hash ${args.hash} of ` : ""}app ${appId}${vm ? ` (VM ${vm})` : ""}`;
    const r = await revokeApp(path, appId, args.hash);
    if (r.removed === 0) throw new NotFoundError(`${what} is not in ${path}`, { hint: "see `dstack allowlist ls`" });
    if (args.json) out(io, formatJson({ path, appId, vm: vm ?? null, hash: args.hash ?? null, removed: r.removed }));
    else out(io, `revoked ${what} in ${path}; running instances keep their keys until they restart`);
  },
});

export default defineCommand({
  meta: { name: "allowlist", description: "See and withdraw what may get keys from the KMS" },
  subCommands: { ls, revoke },
});
