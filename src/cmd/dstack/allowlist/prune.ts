/** `dstack allowlist prune`: withdraw every registration no VM of the VMM would boot (src/client/allowlist/registration.ts). */
import type { Withdrawal } from "../../../auth/unused.ts";
import { openAllowlist } from "../../../client/allowlist/allowlist-vms.ts";
import { UsageError } from "../../../core/errors.ts";
import { out } from "../../../core/io.ts";
import { formatJson, formatTable } from "../../../core/text/output.ts";
import { clientArgs, dryRunArgs, yesArgs } from "../../shared/args.ts";
import { defineCommand } from "../../shared/command.ts";
import { clientRun } from "../../shared/log.ts";

function table(ws: Withdrawal[]): string {
  const rows = ws.flatMap((w) =>
    (w.hashes.length ? w.hashes : ["(none)"]).map((h) => ({ id: w.appKey, h, app: w.wholeApp ? "yes" : "no" })),
  );
  return formatTable(rows, [
    { header: "APP ID", get: (r) => r.id },
    { header: "COMPOSE HASH", get: (r) => r.h },
    { header: "WHOLE APP", get: (r) => r.app },
  ]);
}

export default defineCommand({
  meta: {
    name: "prune",
    description: "Withdraw the registrations no VM uses: app ids and compose hashes no VM of the VMM (stopped ones included) would boot",
  },
  args: {
    allowlist: { type: "string", description: "Allowlist file (default: the install's)", valueHint: "PATH" },
    ...yesArgs,
    ...dryRunArgs,
    ...clientArgs,
  },
  async run({ args, io, env }) {
    const s = await openAllowlist(args, clientRun({ io, env, args }));
    try {
      const { path, where } = s.allowlist;
      const c = await s.vmm();
      const plan = await s.allowlist.withdrawUnused(c, { dryRun: true });
      const dryRun = args["dry-run"] === true;
      const report = (ws: Withdrawal[]) => {
        if (args.json) out(io, formatJson({ path, ...(s.host ? { host: s.host } : {}), dryRun, withdrawn: ws }));
        else if (ws.length === 0) out(io, `${where}: every registration is used by a VM; nothing to prune`);
        else out(io, `${dryRun ? "would withdraw" : "withdrew"} from ${where}:\n${table(ws)}`);
      };
      if (dryRun || plan.length === 0) {
        report(plan);
        return 0;
      }
      if (!args.yes) {
        if (!io.isTTY.stdin)
          throw new UsageError(
            "prune withdraws registrations (their apps are denied keys at the next boot); pass -y to confirm without a terminal, or --dry-run to see them",
          );
        io.stderr(`${table(plan)}\n`);
        const answer = (await io.prompt(`Withdraw these from ${where}? Their next boot is denied keys. [y/N] `)).trim().toLowerCase();
        if (answer !== "y" && answer !== "yes") {
          io.stderr("aborted; nothing was changed\n");
          return 1;
        }
      }
      // Asked again under the lock: a VM created meanwhile keeps what it uses.
      report(await s.allowlist.withdrawUnused(c));
      return 0;
    } finally {
      s.close();
    }
  },
});
