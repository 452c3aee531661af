/**
 * dstackai's CPUSpec: split on `:`; a token with `..` or all digits is the count
 * (a Range), any other is the arch (`x86` | `arm`, any case). Each at most once,
 * in either order. `x86:16`, `arm:8..`, `..64`, `16`, `{min: 4}`, `{arch, count}`.
 */
import { GrammarError } from "../forms/grammar-error.ts";
import { formatRange, parseCountRange, type Range } from "./range.ts";

export type CpuArch = "x86" | "arm";

export interface CpuSpec {
  arch?: CpuArch;
  count: Range<number>;
}

function parseArch(v: unknown): CpuArch {
  const s = String(v).toLowerCase();
  if (s === "x86" || s === "arm") return s;
  throw new GrammarError(`Invalid CPU architecture: ${String(v)} (x86 or arm)`);
}

export function parseCpu(v: unknown): CpuSpec {
  if (typeof v === "number") return { count: parseCountRange(v) };
  if (typeof v === "string") {
    const spec: CpuSpec = { count: {} };
    let arch: CpuArch | undefined;
    let count: Range<number> | undefined;
    for (const token of v.replaceAll(" ", "").split(":")) {
      if (token.includes("..") || /^\d+$/.test(token)) {
        if (count) throw new GrammarError("CPU spec count conflict");
        count = parseCountRange(token);
      } else {
        if (arch) throw new GrammarError("CPU spec arch conflict");
        arch = parseArch(token);
      }
    }
    if (arch) spec.arch = arch;
    spec.count = count ?? {};
    return spec;
  }
  if (v !== null && typeof v === "object" && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if ("arch" in o || "count" in o) {
      const extra = Object.keys(o).filter((k) => k !== "arch" && k !== "count");
      if (extra.length) throw new GrammarError(`unknown key ${extra[0]} (a CPU spec has arch and count)`);
      const spec: CpuSpec = { count: o.count === undefined || o.count === null ? {} : parseCountRange(o.count) };
      if (o.arch !== undefined && o.arch !== null) spec.arch = parseArch(o.arch);
      return spec;
    }
    return { count: parseCountRange(o) };
  }
  throw new GrammarError("Input should be a CPU spec such as 4, 2.., x86:16 or arm:8..");
}

/** `2..`, `x86:16` */
export function formatCpu(c: CpuSpec): string {
  const n = formatRange(c.count, String);
  return c.arch ? `${c.arch}:${n}` : n;
}
