/**
 * dstackai's durations (dstackai/dstack: src/dstack/_internal/core/models/duration.py): an int of
 * seconds, `"<int>"`, or `"<int> ?[smhdw]"` — one unit only (`1h30m` is rejected). Printed in the
 * largest unit that divides exactly (`5m`, `3d`, `90s`). The "off" forms are per key (each key's
 * own validator) and handled by the callers.
 */
import { GrammarError } from "./grammar-error.ts";

const UNIT: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** Seconds. */
export function parseDuration(v: unknown): number {
  if (typeof v === "number" && Number.isInteger(v)) return v;
  if (typeof v === "string") {
    const m = /^(-?\d+) ?([smhdw])?$/.exec(v.trim());
    if (m) return Number(m[1]) * UNIT[m[2] ?? "s"]!;
  }
  throw new GrammarError(`Cannot parse the duration ${JSON.stringify(v)}: use seconds or one unit, e.g. 90s, 30m, 2h, 1d, 1w (not 1h30m)`);
}

export function formatDuration(seconds: number): string {
  if (seconds === 0) return "0s";
  for (const u of ["w", "d", "h", "m"]) {
    if (seconds % UNIT[u]! === 0) return `${seconds / UNIT[u]!}${u}`;
  }
  return `${seconds}s`;
}

/**
 * `max_duration` / `stop_duration`: `off`/`false` → "off", `true` or absent →
 * undefined (the default); negative values are rejected.
 */
export function parseOffDuration(v: unknown): number | "off" | undefined {
  if (v === false || v === "off") return "off";
  if (v === true || v === null || v === undefined) return undefined;
  const s = parseDuration(v);
  if (s < 0) throw new GrammarError("Duration cannot be negative");
  return s;
}
