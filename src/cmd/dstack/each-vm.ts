/** What stop, start, restart and rm share: one VM or several, by name or id prefix; one result line each. */
import { RefusedError, UsageError } from "../../core/errors.ts";
import type { Env, Io } from "../../core/io.ts";
import { formatJson } from "../../core/output.ts";
import type { VmmClient } from "../../core/vmm/client.ts";
import type { VmInfo } from "../../core/vmm/types.ts";
import { selectVm } from "../../core/vmm/vm-select.ts";
import { out } from "../shared/log.ts";
import { openClient } from "./common.ts";

export async function forEachVm(
  args: Record<string, unknown> & { _: string[] },
  io: Io,
  env: Env,
  fn: (c: VmmClient, vm: VmInfo) => Promise<string>,
): Promise<number> {
  const refs = args._.map(String);
  if (refs.length === 0) throw new UsageError("name at least one VM (name or id prefix)");
  const { c } = await openClient(args as never, io, env);
  const results: { vm: string; id: string; result: string }[] = [];
  let failed = 0;
  try {
    const vms = (await c.status({ brief: true })).vms;
    const picked = refs.map((r) => selectVm(vms, r));
    for (const vm of picked) {
      try {
        const r = await fn(c, vm);
        results.push({ vm: vm.name, id: vm.id, result: r });
        if (!args.json && !args.quiet) out(io, `${vm.name} (${vm.id.slice(0, 8)}): ${r}`);
      } catch (e) {
        failed++;
        const msg = e instanceof Error ? e.message : String(e);
        results.push({ vm: vm.name, id: vm.id, result: `error: ${msg}` });
        if (!args.json) io.stderr(`${vm.name} (${vm.id.slice(0, 8)}): ${msg}\n`);
        if (e instanceof RefusedError && picked.length === 1) throw e;
      }
    }
  } finally {
    c.close();
  }
  if (args.json) out(io, formatJson(results));
  return failed ? 1 : 0;
}

export const vmArg = { vm: { type: "positional", required: true, description: "VM names or id prefixes", valueHint: "NAME|ID…" } } as const;
