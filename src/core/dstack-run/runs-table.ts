/**
 * `dstack ps -v` for declarative runs: dstackai's verbose columns (NAME, BACKEND,
 * RESOURCES, INSTANCE TYPE, PRICE, STATUS, PROBES, SUBMITTED, ERROR), one merged
 * row per run (a run is one CVM, one job).
 */
import { type Column, formatTable, type TableOptions } from "../text/output.ts";
import type { VmInfo } from "../vmm/types.ts";
import type { RunState } from "./run-status.ts";
import { formatChosen } from "./sizing.ts";

export interface RunRow {
  vm: VmInfo;
  state: RunState;
  backend: string;
  /** a running service's PROBES cell (probe-check.ts probesCell) */
  probes?: string | undefined;
}

function resources(vm: VmInfo): string {
  const c = vm.configuration;
  if (!c) return "-";
  return formatChosen({ vcpu: c.vcpu, memoryMiB: c.memory, diskGiB: c.disk_size, gpus: c.gpus?.gpus.length ?? 0 });
}

const ERRORS: Record<string, string> = {
  container_exited_with_error: "",
  creating_container_error: "runner error",
  instance_unreachable: "instance unreachable",
  max_duration_exceeded: "max duration exceeded",
  inactivity_duration_exceeded: "inactivity duration exceeded",
};

/** The widest cell of a truncated table (a terminal, as docker; `--no-trunc` shows them whole). */
const MAX = 30;

export const RUN_COLUMNS: Column<RunRow>[] = [
  { header: "NAME", get: (r) => r.vm.name, max: MAX },
  { header: "BACKEND", get: (r) => r.backend },
  { header: "RESOURCES", get: (r) => resources(r.vm) },
  { header: "INSTANCE TYPE", get: (r) => r.vm.configuration?.image ?? "-", max: MAX },
  { header: "PRICE", get: () => "-" },
  { header: "STATUS", get: (r) => r.state.message, max: MAX },
  { header: "PROBES", get: (r) => r.probes ?? "-" },
  { header: "SUBMITTED", get: (r) => (r.vm.status === "running" && r.vm.uptime ? `${r.vm.uptime} ago` : "-") },
  { header: "ERROR", get: (r) => (r.state.terminationReason ? (ERRORS[r.state.terminationReason] ?? "") : ""), max: MAX },
];

export function formatRuns(rows: RunRow[], o: TableOptions = {}): string {
  return formatTable(rows, RUN_COLUMNS, o);
}
