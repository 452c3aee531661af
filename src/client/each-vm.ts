/** What stop, start, restart and rm share: one VM or several, by name or id prefix; one result line each. */
import { RefusedError, UsageError } from "../core/errors.ts";
import { formatJson } from "../core/text/output.ts";
import type { VmmClient } from "../core/vmm/client.ts";
import { refuseSystemVm } from "../core/vmm/system-vm.ts";
import type { VmInfo } from "../core/vmm/types.ts";
import { selectVm } from "../core/vmm/vm-select.ts";
import type { Endpoint, EndpointFlags } from "./connect/endpoint.ts";
import { type ClientRun, openClient } from "./connect/session.ts";

export interface EachVmFlags extends EndpointFlags {
  json?: boolean | undefined;
  quiet?: boolean | undefined;
}

/**
 * Run `fn` on each VM `refs` names, in order; print "name (id): result" for each (a JSON list
 * with --json). A failure is reported and the others still run; the exit code is 1 if any failed.
 * A refusal of the only VM named is the command's error (its exit code and hint). With
 * `refuseSystem` (the verb: "stop", "remove"), a system VM among them (the host's KMS) refuses
 * the whole command before anything is done to any of them.
 */
export async function forEachVm(
  refs: string[],
  flags: EachVmFlags,
  run: ClientRun,
  fn: (c: VmmClient, vm: VmInfo, ep: Endpoint) => Promise<string>,
  opts: { refuseSystem?: string } = {},
): Promise<number> {
  if (refs.length === 0) throw new UsageError("name at least one VM (name or id prefix)");
  const { io } = run;
  const { c, ep } = await openClient(flags, run);
  const results: { vm: string; id: string; result: string }[] = [];
  let failed = 0;
  try {
    const vms = (await c.status({ brief: true })).vms;
    const picked = refs.map((r) => selectVm(vms, r));
    if (opts.refuseSystem) {
      // the marker is in the configuration, which a brief status leaves out
      const full = (await c.status({ ids: picked.map((v) => v.id), brief: false })).vms;
      for (const vm of picked) refuseSystemVm(full.find((f) => f.id === vm.id) ?? vm, opts.refuseSystem);
    }
    for (const vm of picked) {
      try {
        const r = await fn(c, vm, ep);
        results.push({ vm: vm.name, id: vm.id, result: r });
        if (!flags.json && !flags.quiet) io.stdout(`${vm.name} (${vm.id.slice(0, 8)}): ${r}\n`);
      } catch (e) {
        failed++;
        const msg = e instanceof Error ? e.message : String(e);
        results.push({ vm: vm.name, id: vm.id, result: `error: ${msg}` });
        if (!flags.json) io.stderr(`${vm.name} (${vm.id.slice(0, 8)}): ${msg}\n`);
        if (e instanceof RefusedError && picked.length === 1) throw e;
      }
    }
  } finally {
    c.close();
  }
  if (flags.json) io.stdout(formatJson(results));
  return failed ? 1 : 0;
}
