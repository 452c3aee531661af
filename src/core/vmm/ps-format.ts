/** The `dstack ps` table. */

import { type Column, formatTable } from "../output.ts";
import { systemRole } from "./system-vm.ts";
import type { VmInfo } from "./types.ts";

export function statusText(v: Pick<VmInfo, "status" | "boot_progress" | "boot_error">): string {
  if (v.boot_error) return `${v.status} (boot failed)`;
  if (v.status === "running" && v.boot_progress && v.boot_progress !== "done" && v.boot_progress !== "running")
    return `running (${v.boot_progress})`;
  return v.status;
}

export function portsText(v: VmInfo): string {
  const ports = v.configuration?.ports ?? [];
  return ports
    .map((p) => `${p.host_address.includes(":") ? `[${p.host_address}]` : p.host_address}:${p.host_port}->${p.vm_port}/${p.protocol}`)
    .join(", ");
}

/**
 * The container image(s) the app runs (from the manifest's docker compose, like
 * `docker ps`), else the guest OS image. A cheap line scan: no YAML parser on
 * the `ps` path.
 */
export function imageOf(v: VmInfo): string {
  const guest = v.configuration?.image ?? "";
  let compose = "";
  try {
    const m = JSON.parse(v.configuration?.compose_file ?? "") as { docker_compose_file?: unknown };
    if (typeof m.docker_compose_file === "string") compose = m.docker_compose_file;
  } catch {
    return guest;
  }
  const images = [...compose.matchAll(/^[ \t]+image:[ \t]*(["']?)([^"'\s#]+)\1[ \t]*(?:#.*)?$/gm)].map((x) => x[2]!);
  return images.length ? [...new Set(images)].join(",") : guest;
}

export const PS_COLUMNS: Column<VmInfo>[] = [
  { header: "NAME", get: (v) => (systemRole(v) ? `${v.name} (system)` : v.name) },
  { header: "ID", get: (v) => v.id.slice(0, 8) },
  { header: "APP ID", get: (v) => v.app_id.slice(0, 12) },
  { header: "STATUS", get: statusText },
  { header: "PORTS", get: portsText },
  { header: "UPTIME", get: (v) => (v.status === "running" ? v.uptime : "-") },
  { header: "IMAGE", get: imageOf },
];

/** `statusOf` gives a VM another STATUS (a declarative run's, in dstackai's words). */
export function formatPs(vms: VmInfo[], statusOf: (v: VmInfo) => string | undefined = () => undefined): string {
  return formatTable(
    vms,
    PS_COLUMNS.map((c) => (c.header === "STATUS" ? { ...c, get: (v: VmInfo) => statusOf(v) ?? statusText(v) } : c)),
  );
}
