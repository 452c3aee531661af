/**
 * The declarative runs on a VMM: the VMs whose compose this toolchain generated
 * from a `.dstack.yml` (its `x-dstack-run` description), with their status in
 * dstackai's words, read from the VM state and the run's exit line on the
 * serial console.
 */
import { parseAppCompose } from "../../core/compose/app-compose-parse.ts";
import { type RunDescription, readRunDescription } from "../../core/dstack-run/run-description.ts";
import type { VmInfo } from "../../core/vmm/types.ts";

/** The run description in a VM's app-compose, if it is a declarative run. */
export function describeVm(vm: VmInfo): RunDescription | undefined {
  const text = vm.configuration?.compose_file;
  if (!text) return undefined;
  try {
    const m = parseAppCompose(text);
    return typeof m.docker_compose_file === "string" ? readRunDescription(m.docker_compose_file) : undefined;
  } catch {
    return undefined;
  }
}
