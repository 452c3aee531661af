/** `dstack allowlist`: ls and revoke here, prune in prune.ts. */
import { normalizeHex } from "../../../auth/allowlist.ts";
import { type AllowlistSession, appIdOf, openAllowlist, vmsByApp } from "../../../client/allowlist/allowlist-vms.ts";
import { NotFoundError, UsageError } from "../../../core/errors.ts";
import { type Io, out } from "../../../core/io.ts";
import { formatJson, formatTable } from "../../../core/text/output.ts";
import { clientArgs } from "../../shared/args.ts";
import { defineCommand } from "../../shared/command.ts";
import { clientRun, createLogger } from "../../shared/log.ts";

const allowlistArg = { allowlist: { type: "string", description: "Allowlist file (default: the install's)", valueHint: "PATH" } } as const;

const ls = defineCommand({
  meta: {
    name: "ls",
    alias: ["list"],
    description: "What may get keys: pinned OS images, apps and their compose hashes, and the VMs running them",
  },
  args: { ...allowlistArg, ...clientArgs },
  async run({ args, io, env }) {
    const s = await openAllowlist(args, clientRun({ io, env, args }));
    try {
      await list(s, args, io);
    } finally {
      s.close();
    }
  },
});

/** `ls`'s output: the table (or JSON) of the allowlist, with the VMs running each hash when the VMM answers. */
async function list(s: AllowlistSession, args: { json?: boolean; quiet?: boolean; verbose?: boolean }, io: Io): Promise<void> {
  const { path, where } = s.allowlist;
  const l = await s.allowlist.read();
  const { vms, why } = await vmsByApp(s);
  const vmsOf = (id: string) => vms?.get(normalizeHex(id)) ?? [];
  // beside each hash, the VMs that would boot it (one whose compose the VMM did not report: beside every hash)
  const vmsOfHash = (id: string, h: string) =>
    vmsOf(id)
      .filter((v) => v.composeHash === undefined || v.composeHash === normalizeHex(h))
      .map((v) => v.name);
  if (args.json) {
    const byApp = (f: (id: string) => unknown) => (vms ? Object.fromEntries(Object.keys(l.apps).map((id) => [id, f(id)])) : null);
    out(
      io,
      formatJson({
        path,
        ...(s.host ? { host: s.host } : {}),
        ...l,
        vms: byApp((id) => vmsOf(id).map((v) => v.name)),
        vmsByHash: byApp((id) => Object.fromEntries(l.apps[id]!.composeHashes.map((h) => [h, vmsOfHash(id, h)]))),
      }),
    );
    return;
  }
  if (!vms) createLogger(io, args).info(`VM names left out: the VMM could not be asked (${why})`);
  const rows = Object.entries(l.apps).flatMap(([id, r]) =>
    (r.composeHashes.length ? r.composeHashes : ["(none)"]).map((h) => ({ id, h, vms: vmsOfHash(id, h).join(",") || "-" })),
  );
  const cols = [
    { header: "APP ID", get: (r: (typeof rows)[number]) => r.id },
    { header: "COMPOSE HASH", get: (r: (typeof rows)[number]) => r.h },
  ];
  if (vms) cols.push({ header: "VMS", get: (r) => r.vms });
  out(io, `${where}\nos images: ${l.osImages.join(", ") || "any (not pinned)"}\n${formatTable(rows, cols)}`);
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
    if (args.hash !== undefined && !/^(0x)?[0-9a-f]{64}$/i.test(String(args.hash).trim())) {
      throw new UsageError(
        `--hash ${JSON.stringify(args.hash)}: expected a compose hash of 64 hex characters (see \`dstack allowlist ls\`)`,
      );
    }
    const s = await openAllowlist(args, clientRun({ io, env, args }));
    try {
      const { path, where } = s.allowlist;
      const { appId, vm } = await appIdOf(String(args.app), s);
      const what = `${args.hash ? `compose hash ${args.hash} of ` : ""}app ${appId}${vm ? ` (VM ${vm})` : ""}`;
      const r = await s.allowlist.revoke(appId, args.hash);
      if (r.removed === 0) throw new NotFoundError(`${what} is not in ${where}`, { hint: "see `dstack allowlist ls`" });
      if (args.json)
        out(
          io,
          formatJson({ path, ...(s.host ? { host: s.host } : {}), appId, vm: vm ?? null, hash: args.hash ?? null, removed: r.removed }),
        );
      else out(io, `revoked ${what} in ${where}; running instances keep their keys until they restart`);
    } finally {
      s.close();
    }
  },
});

export default defineCommand({
  meta: { name: "allowlist", description: "See and withdraw what may get keys from the KMS" },
  subCommands: { ls, revoke, prune: () => import("./prune.ts").then((m) => m.default) },
});
