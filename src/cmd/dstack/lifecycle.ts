/** stop, start, restart, rm: one VM or several, by name or id prefix. */
import { defineCommand } from "citty";
import { DstackError, RefusedError } from "../../core/errors.ts";
import { formatJson } from "../../core/output.ts";
import { selectVm } from "../../core/vm-select.ts";
import type { VmmClient } from "../../core/vmm/client.ts";
import type { VmInfo } from "../../core/vmm/types.ts";
import { out } from "../shared/log.ts";
import { clientArgs, openClient } from "./common.ts";

async function forEachVm(args: Record<string, unknown> & { _: string[] }, fn: (c: VmmClient, vm: VmInfo) => Promise<string>): Promise<number> {
  const refs = args._.map(String);
  if (refs.length === 0) throw new DstackError("name at least one VM (name or id prefix)", 2);
  const { c } = await openClient(args as never);
  const results: { vm: string; id: string; result: string }[] = [];
  let failed = 0;
  try {
    const vms = (await c.status({ brief: true })).vms;
    const picked = refs.map((r) => selectVm(vms, r));
    for (const vm of picked) {
      try {
        const r = await fn(c, vm);
        results.push({ vm: vm.name, id: vm.id, result: r });
        if (!args.json) out(`${vm.name} (${vm.id.slice(0, 8)}): ${r}`);
      } catch (e) {
        failed++;
        const msg = e instanceof Error ? e.message : String(e);
        results.push({ vm: vm.name, id: vm.id, result: `error: ${msg}` });
        if (!args.json) process.stderr.write(`${vm.name} (${vm.id.slice(0, 8)}): ${msg}\n`);
        if (e instanceof RefusedError && picked.length === 1) throw e;
      }
    }
  } finally {
    c.close();
  }
  if (args.json) out(formatJson(results));
  return failed ? 1 : 0;
}

const vmArg = { vm: { type: "positional", required: true, description: "VM names or id prefixes", valueHint: "NAME|ID…" } } as const;

export const stop = defineCommand({
  meta: { name: "stop", description: "Stop CVMs (graceful shutdown; --force to cut the power)" },
  args: { ...vmArg, force: { type: "boolean", alias: "f", description: "Hard stop instead of a guest shutdown" }, ...clientArgs },
  run: ({ args }) =>
    forEachVm(args, async (c, vm) => {
      if (args.force || vm.status !== "running") await c.stopVm(vm.id);
      else {
        try {
          await c.shutdownVm(vm.id);
        } catch {
          await c.stopVm(vm.id);
        }
      }
      return "stopped";
    }),
});

export const start = defineCommand({
  meta: { name: "start", description: "Start stopped CVMs" },
  args: { ...vmArg, ...clientArgs },
  run: ({ args }) =>
    forEachVm(args, async (c, vm) => {
      await c.startVm(vm.id);
      return "started";
    }),
});

export const restart = defineCommand({
  meta: { name: "restart", description: "Stop and start CVMs" },
  args: { ...vmArg, ...clientArgs },
  run: ({ args }) =>
    forEachVm(args, async (c, vm) => {
      await c.stopVm(vm.id);
      await c.startVm(vm.id);
      return "restarted";
    }),
});

export const rm = defineCommand({
  meta: { name: "rm", alias: ["remove"], description: "Remove CVMs and their disks (a running one needs -f)" },
  args: { ...vmArg, force: { type: "boolean", alias: "f", description: "Remove even if running" }, ...clientArgs },
  run: ({ args }) =>
    forEachVm(args, async (c, vm) => {
      if (vm.status === "running" && !args.force) {
        throw new RefusedError(`${vm.name} is running`, { hint: `stop it first (\`dstack stop ${vm.name}\`) or pass -f` });
      }
      await c.removeVm(vm.id);
      return "removed";
    }),
});
