/**
 * The plan `dstack apply` prints, laid out as dstackai's `print_run_plan`: a
 * borderless key/value table (bold keys on a terminal), a blank line, then the
 * offers table (`#  BACKEND  RESOURCES  INSTANCE TYPE  PRICE`, then an unnamed
 * availability column), or dstackai's no-offers line. Rows are adapted to a
 * dstack host: Host instead of Project, and the guest image, ports, compose
 * hash and app id the KMS will see.
 */
import { formatDuration } from "../dstack-yml/forms/duration.ts";
import type { RetryPolicy } from "../dstack-yml/profile.ts";
import { formatOfferResources, type Offer } from "./offers.ts";
import type { RunPlan } from "./run-plan.ts";

export const NO_OFFERS =
  "No matching instance offers available. Possible reasons: https://dstack.ai/docs/guides/troubleshooting/#no-offers";

const BOLD = (s: string) => `\x1b[1m${s}\x1b[0m`;
const DIM = (s: string) => `\x1b[2m${s}\x1b[0m`;

/** ` Key   value` lines; keys padded to one width. */
export function keyValueTable(rows: [string, string][], color: boolean): string {
  const w = Math.max(...rows.map(([k]) => k.length));
  return `${rows.map(([k, v]) => ` ${color ? BOLD(k.padEnd(w)) : k.padEnd(w)}  ${v}`.trimEnd()).join("\n")}\n`;
}

export function formatRetry(r: RetryPolicy | undefined): string {
  return r ? `${formatDuration(r.duration)}[${r.onEvents.join(", ")}]` : "off";
}

export interface PlanContext {
  host: string;
  user: string;
  guestImage: string;
  /** `localhost:8080 -> 8080`, or `auto -> 8080` before a free port is picked */
  ports: string[];
}

export function planRows(p: RunPlan, ctx: PlanContext): [string, string][] {
  const c = p.config;
  const maxDuration = typeof c.maxDuration === "number" ? formatDuration(c.maxDuration) : "off";
  const rows: [string, string][] = [
    ["Host", ctx.host],
    ["User", ctx.user],
    ["Configuration", p.configPath],
    ["Type", p.type === "task" ? "task (nodes=1)" : p.type],
    ["Resources", p.requirements],
    ["Spot policy", "on-demand"],
    ["Max price", "off"],
    ["Retry policy", formatRetry(c.retry)],
    ["Idle duration", "-"],
    ["Max duration", maxDuration],
  ];
  if (c.type === "dev-environment") {
    rows.push(["Inactivity duration", c.inactivityDuration === undefined ? "off" : formatDuration(c.inactivityDuration)]);
  }
  rows.push(
    ["Guest image", ctx.guestImage],
    ["Ports", ctx.ports.join(", ") || "-"],
    ["Compose hash", p.built.composeHash],
    ["App id", p.built.appId],
  );
  return rows;
}

/** dstackai's offers table; rows after the first dimmed on a terminal (`dim: false` for `dstack offer`). */
export function offersTable(offers: Offer[], o: { color: boolean; dim: boolean; total?: number }): string {
  if (offers.length === 0) return `${NO_OFFERS}\n`;
  const header = ["#", "BACKEND", "RESOURCES", "INSTANCE TYPE", "PRICE", ""];
  const rows = offers.map((x, i) => [
    String(i + 1),
    x.backend,
    formatOfferResources(x),
    x.instanceType,
    "-",
    x.available ? "" : "not available",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    ` ${cells
      .map((v, i) => v.padEnd(widths[i]!))
      .join("  ")
      .trimEnd()}`;
  const out = [line(header), ...rows.map((r, i) => (o.color && o.dim && i > 0 ? DIM(line(r)) : line(r)))];
  if (o.total !== undefined && o.total > offers.length) out.push(" ...", ` Shown ${offers.length} of ${o.total} offers, $0 max`);
  return `${out.join("\n")}\n`;
}
