/**
 * Scalar and container checks with pydantic's coercions as dstackai configures
 * them: numbers become strings in string fields (`coerce_numbers_to_str`), but a
 * YAML 1.1 boolean does not (an unquoted `yes` or `off` where a string belongs is
 * an error that says to quote it). Each returns undefined after recording an issue.
 */
import type { Issues } from "./issues.ts";
import type { Path } from "./yaml11.ts";

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

export function str(v: unknown, path: Path, issues: Issues): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "number") return String(v);
  if (typeof v === "boolean") {
    return issues.error(
      path,
      `Input should be a valid string (YAML 1.1 reads an unquoted ${v ? "yes/on/true" : "no/off/false"} as a boolean: quote it)`,
    );
  }
  return issues.error(path, "Input should be a valid string");
}

export function bool(v: unknown, path: Path, issues: Issues): boolean | undefined {
  if (typeof v === "boolean") return v;
  // pydantic's lax bool also takes these strings and 0/1.
  if (typeof v === "string") {
    const s = v.toLowerCase();
    if (["true", "yes", "on", "1", "t", "y"].includes(s)) return true;
    if (["false", "no", "off", "0", "f", "n"].includes(s)) return false;
  }
  if (v === 0 || v === 1) return v === 1;
  return issues.error(path, "Input should be a valid boolean");
}

export function int(v: unknown, path: Path, issues: Issues, min?: number, max?: number): number | undefined {
  let n: number | undefined;
  if (typeof v === "number" && Number.isInteger(v)) n = v;
  else if (typeof v === "string" && /^\s*[-+]?\d+\s*$/.test(v)) n = Number(v);
  if (n === undefined) return issues.error(path, "Input should be a valid integer");
  if (min !== undefined && n < min) return issues.error(path, `Input should be greater than or equal to ${min}`);
  if (max !== undefined && n > max) return issues.error(path, `Input should be less than or equal to ${max}`);
  return n;
}

export function list(v: unknown, path: Path, issues: Issues): unknown[] | undefined {
  if (Array.isArray(v)) return v;
  return issues.error(path, "Input should be a valid list");
}

export function strList(v: unknown, path: Path, issues: Issues): string[] | undefined {
  const l = list(v, path, issues);
  if (!l) return undefined;
  const out: string[] = [];
  let ok = true;
  l.forEach((x, i) => {
    const s = str(x, [...path, i], issues);
    if (s === undefined) ok = false;
    else out.push(s);
  });
  return ok ? out : undefined;
}

export function obj(v: unknown, path: Path, issues: Issues): Obj | undefined {
  if (isObj(v)) return v;
  return issues.error(path, "Input should be a valid dictionary or object");
}

export function picklist<T extends string>(v: unknown, path: Path, issues: Issues, values: readonly T[]): T | undefined {
  const s = typeof v === "string" ? v : undefined;
  if (s !== undefined && (values as readonly string[]).includes(s)) return s as T;
  return issues.error(
    path,
    `Input should be ${values
      .map((x) => `'${x}'`)
      .join(", ")
      .replace(/, ([^,]*)$/, " or $1")}`,
  );
}
