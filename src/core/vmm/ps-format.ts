/** The `dstack ps` table. */

import { type Column, formatTable } from "../text/output.ts";
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

/** How `ps` shortens: `trunc` cuts long cells with `…` and drops image digests (a terminal, as docker); `fullIds` shows whole ids (`--no-trunc`). */
export interface PsOptions {
  trunc?: boolean;
  fullIds?: boolean;
}

/** The widest NAME, STATUS and IMAGE cells of a truncated table. */
const CELL_MAX = { name: 30, status: 30, image: 40 } as const;

/** docker's truncated IMAGE: the registry digest dropped, the tag kept. */
function withoutDigests(images: string): string {
  return images.replace(/@sha256:[0-9a-f]{64}/g, "");
}

export function psColumns(o: PsOptions = {}): Column<VmInfo>[] {
  return [
    { header: "NAME", get: (v) => (systemRole(v) ? `${v.name} (system)` : v.name), max: CELL_MAX.name },
    { header: "ID", get: (v) => (o.fullIds ? v.id : v.id.slice(0, 8)) },
    { header: "APP ID", get: (v) => (o.fullIds ? v.app_id : v.app_id.slice(0, 12)) },
    { header: "STATUS", get: statusText, max: CELL_MAX.status },
    { header: "PORTS", get: portsText },
    { header: "UPTIME", get: (v) => (v.status === "running" ? v.uptime : "-") },
    { header: "IMAGE", get: (v) => (o.trunc ? withoutDigests(imageOf(v)) : imageOf(v)), max: CELL_MAX.image },
  ];
}

/** `statusOf` gives a VM another STATUS (a declarative run's, in dstackai's words). */
export function formatPs(vms: VmInfo[], statusOf: (v: VmInfo) => string | undefined = () => undefined, o: PsOptions = {}): string {
  return formatTable(
    vms,
    psColumns(o).map((c) => (c.header === "STATUS" ? { ...c, get: (v: VmInfo) => statusOf(v) ?? statusText(v) } : c)),
    { trunc: o.trunc === true },
  );
}
