/**
 * dstackai's Range<T> (dstackai/dstack: src/dstack/_internal/core/models/resources.py): `a..b`,
 * `a..`, `..b`, or a bare value, which is an EXACT match (`cpu: 16` is 16 cores, not at least 16).
 * Spaces are removed first; `{min, max}` is the mapping form. Printed as `v`, `a..b`, `a..`, `..b`.
 */
import { GrammarError } from "../forms/grammar-error.ts";

export interface Range<T> {
  min?: T;
  max?: T;
}

/** `parseOne` reads one bound (a number, `24GB`, …) and throws GrammarError. */
export function parseRange<T>(input: unknown, parseOne: (v: unknown) => T, less: (a: T, b: T) => boolean): Range<T> {
  let min: unknown;
  let max: unknown;
  if (typeof input === "number") {
    min = input;
    max = input;
  } else if (typeof input === "string") {
    const s = input.replaceAll(" ", "");
    if (s === "..") throw new GrammarError("Invalid empty range: ..");
    const parts = s.split("..");
    if (parts.length > 2) throw new GrammarError(`Invalid range: ${input}`);
    if (parts.length === 2) {
      min = parts[0] === "" ? undefined : parts[0];
      max = parts[1] === "" ? undefined : parts[1];
    } else {
      min = s;
      max = s;
    }
  } else if (input !== null && typeof input === "object" && !Array.isArray(input)) {
    const o = input as Record<string, unknown>;
    const extra = Object.keys(o).filter((k) => k !== "min" && k !== "max");
    if (extra.length) throw new GrammarError(`unknown key ${extra[0]} (a range has min and max)`);
    min = o.min ?? undefined;
    max = o.max ?? undefined;
  } else {
    throw new GrammarError("Input should be a range: a value, a..b, a.. or ..b");
  }
  const r: Range<T> = {};
  if (min !== undefined) r.min = parseOne(min);
  if (max !== undefined) r.max = parseOne(max);
  if (r.min !== undefined && r.max !== undefined && less(r.max, r.min)) throw new GrammarError("Invalid range order");
  return r;
}

export function formatRange<T>(r: Range<T>, fmt: (v: T) => string): string {
  const a = r.min === undefined ? "" : fmt(r.min);
  const b = r.max === undefined ? "" : fmt(r.max);
  if (r.min !== undefined && r.max !== undefined && a === b) return a;
  return `${a}..${b}`;
}

/** An int bound (a count): digits only. */
export function parseCount(v: unknown): number {
  if (typeof v === "number" && Number.isInteger(v) && v >= 0) return v;
  if (typeof v === "string" && /^\d+$/.test(v)) return Number(v);
  throw new GrammarError(`Input should be a valid integer, unable to parse string as an integer: ${JSON.stringify(v)}`);
}

export function parseCountRange(v: unknown): Range<number> {
  return parseRange(v, parseCount, (a, b) => a < b);
}

/** Does `n` fall in `r`? */
export function inRange(r: Range<number>, n: number): boolean {
  return (r.min === undefined || n >= r.min) && (r.max === undefined || n <= r.max);
}
