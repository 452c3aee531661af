import { defineCommand } from "citty";
import { NotFoundError, UsageError } from "../../core/errors.ts";
import { formatJson, formatTable } from "../../core/output.ts";
import { readAllowlistFile, revokeApp } from "../../host/allowlist-file.ts";
import { resolveLayout } from "../../host/layout.ts";
import { readClientState } from "../../host/state.ts";
import { outputArgs, prefixArgs } from "../shared/args.ts";
import { out } from "../shared/log.ts";

const pathArgs = { ...prefixArgs, allowlist: { type: "string", description: "Allowlist file (default: the install's)", valueHint: "PATH" } } as const;

function pathOf(args: { prefix?: string; allowlist?: string }): string {
  if (args.allowlist) return args.allowlist;
  const layout = resolveLayout({ prefix: args.prefix });
  return readClientState(layout.stateFile)?.allowlistPath ?? layout.allowlistPath;
}

const ls = defineCommand({
  meta: { name: "ls", alias: ["list"], description: "What may get keys: pinned OS images, apps and their compose hashes" },
  args: { ...pathArgs, ...outputArgs },
  run({ args }) {
    const path = pathOf(args);
    const l = readAllowlistFile(path);
    if (args.json) {
      out(formatJson({ path, ...l }));
      return;
    }
    const rows = Object.entries(l.apps).flatMap(([id, r]) => (r.composeHashes.length ? r.composeHashes : ["(none)"]).map((h) => ({ id, h })));
    out(`${path}\nos images: ${l.osImages.join(", ") || "any (not pinned)"}\n` + formatTable(rows, [{ header: "APP ID", get: (r) => r.id }, { header: "COMPOSE HASH", get: (r) => r.h }]));
  },
});

const revoke = defineCommand({
  meta: { name: "revoke", description: "Withdraw an app (or one compose hash of it): its next boot is denied keys" },
  args: {
    app_id: { type: "positional", required: true, description: "App id", valueHint: "APP_ID" },
    hash: { type: "string", description: "Only this compose hash" },
    ...pathArgs,
    ...outputArgs,
  },
  async run({ args }) {
    const path = pathOf(args);
    if (!/^(0x)?[0-9a-f]{40}$/i.test(String(args.app_id).trim())) throw new UsageError(`APP_ID ${JSON.stringify(args.app_id)}: expected 40 hex characters (see \`dstack allowlist ls\`)`);
    if (args.hash !== undefined && !/^(0x)?[0-9a-f]{64}$/i.test(String(args.hash).trim())) {
      throw new UsageError(`--hash ${JSON.stringify(args.hash)}: expected a compose hash of 64 hex characters (see \`dstack allowlist ls\`)`);
    }
    const r = await revokeApp(path, String(args.app_id), args.hash);
    if (r.removed === 0) throw new NotFoundError(`${args.hash ? `compose hash ${args.hash} of ` : ""}app ${args.app_id} is not in ${path}`, { hint: "see `dstack allowlist ls`" });
    if (args.json) out(formatJson({ path, appId: args.app_id, hash: args.hash ?? null, removed: r.removed }));
    else out(`revoked ${args.hash ? `compose hash ${args.hash} of ` : ""}app ${args.app_id} in ${path}; running instances keep their keys until they restart`);
  },
});

export default defineCommand({
  meta: { name: "allowlist", description: "See and withdraw what may get keys from the KMS" },
  subCommands: { ls, revoke },
});
