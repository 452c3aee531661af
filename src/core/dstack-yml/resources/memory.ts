/**
 * dstackai's Memory: a float of "GB" that are binary in practice (1TB = 1024GB,
 * 512MB = 0.5GB). Lower-cased and spaces removed; suffixes `tb`, `gb`, `mb`, or
 * none (GB). `16GiB` and `16G` are rejected as dstackai rejects them. Printed
 * with Python's `{:g}GB`.
 */
import { GrammarError } from "../forms/grammar-error.ts";
import { formatRange, parseRange, type Range } from "./range.ts";

const PY_FLOAT = /^[+-]?(?:(?:\d(?:_?\d)*)?\.\d(?:_?\d)*|\d(?:_?\d)*\.?)(?:e[+-]?\d(?:_?\d)*)?$/;

function pyFloat(s: string, original: string): number {
  if (!PY_FLOAT.test(s)) throw new GrammarError(`could not convert string to float: '${original}'`);
  return Number(s.replaceAll("_", ""));
}

/** One Memory value in GB (GiB). */
export function parseMemoryGB(v: unknown): number {
  let gb: number;
  if (typeof v === "number") gb = v;
  else if (typeof v === "string") {
    const s = v.replaceAll(" ", "").toLowerCase();
    if (s.endsWith("tb")) gb = pyFloat(s.slice(0, -2), s) * 1024;
    else if (s.endsWith("gb")) gb = pyFloat(s.slice(0, -2), s);
    else if (s.endsWith("mb")) gb = pyFloat(s.slice(0, -2), s) / 1024;
    else gb = pyFloat(s, s);
  } else throw new GrammarError("Input should be a memory size such as 8GB, 512MB or 1TB");
  if (!Number.isFinite(gb) || gb < 0) throw new GrammarError(`invalid memory size ${JSON.stringify(v)}: it must be a non-negative number`);
  return gb;
}

/** Python's `format(x, "g")`. */
export function pyG(x: number): string {
  if (x === 0) return "0";
  const exp = Math.floor(Math.log10(Math.abs(x)));
  const rounded = Number(x.toPrecision(6));
  const e = Math.floor(Math.log10(Math.abs(rounded)));
  if (e < -4 || e >= 6 || exp < -4) {
    const [m, ex] = rounded.toExponential(5).split("e") as [string, string];
    const mant = m.includes(".") ? m.replace(/0+$/, "").replace(/\.$/, "") : m;
    const n = Number(ex);
    return `${mant}e${n < 0 ? "-" : "+"}${String(Math.abs(n)).padStart(2, "0")}`;
  }
  const s = rounded.toPrecision(6);
  return s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s;
}

export function formatMemory(gb: number): string {
  return `${pyG(gb)}GB`;
}

export function parseMemoryRange(v: unknown): Range<number> {
  return parseRange(v, parseMemoryGB, (a, b) => a < b);
}

export function formatMemoryRange(r: Range<number>): string {
  return formatRange(r, formatMemory);
}
