/**
 * TOML rendering and parsing over smol-toml (vmm.toml, kms.toml).
 *
 * renderToml: keys in the order given (TOML forces plain keys of a table
 * before its sub-tables), integers without `_` separators, a `#` header
 * comment, and a parse-back check: the text must parse to exactly the input.
 * Things TOML cannot say (null, NaN, ±Infinity, unsafe integers, lone
 * surrogates, functions) are errors naming the key path, never silently dropped.
 * `undefined` members are omitted (convenient for optional keys).
 *
 * parseToml: errors carry the line and column.
 */
import { parse, stringify, TomlError } from "smol-toml";
import { DstackError } from "../errors.ts";

export type TomlInput = { [key: string]: unknown };

/** A TOML text that does not parse; `line`/`column` are 1-based. */
export class TomlParseError extends DstackError {
  readonly line: number;
  readonly column: number;
  constructor(label: string, line: number, column: number, detail: string) {
    super(`${label}: line ${line}, column ${column}: ${detail}`);
    this.name = "TomlParseError";
    this.line = line;
    this.column = column;
  }
}

function pathText(path: string[]): string {
  return path.length ? path.join(".") : "(top level)";
}

/** Check a value is representable; returns a copy without undefined members. */
function clean(v: unknown, path: string[]): unknown {
  if (v === null) throw new TypeError(`TOML has no null: ${pathText(path)}`);
  switch (typeof v) {
    case "string":
      if (!v.isWellFormed()) throw new TypeError(`string with a lone UTF-16 surrogate at ${pathText(path)}`);
      return v;
    case "boolean":
      return v;
    case "bigint":
      return v;
    case "number":
      if (!Number.isFinite(v)) throw new TypeError(`${v} is not allowed (at ${pathText(path)})`);
      if (Number.isInteger(v) && !Number.isSafeInteger(v))
        throw new TypeError(`integer ${v} is too large for an exact round trip (at ${pathText(path)}); use a bigint`);
      return v;
    case "object": {
      if (v instanceof Date) return v;
      if (Array.isArray(v)) {
        return v.map((x, i) => {
          if (x === undefined) throw new TypeError(`TOML arrays cannot hold undefined: ${pathText([...path, String(i)])}`);
          return clean(x, [...path, String(i)]);
        });
      }
      const out: TomlInput = {};
      for (const [k, x] of Object.entries(v as TomlInput)) {
        if (x === undefined) continue;
        out[k] = clean(x, [...path, k]);
      }
      return out;
    }
    default:
      throw new TypeError(`cannot render a ${typeof v} in TOML (at ${pathText(path)})`);
  }
}

function equalValues(a: unknown, b: unknown): boolean {
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : String(a) === String(b);
  }
  if (typeof a === "bigint" || typeof b === "bigint") return BigInt(a as never) === BigInt(b as never);
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => equalValues(x, b[i]));
  if (a && typeof a === "object") {
    if (!b || typeof b !== "object" || Array.isArray(b)) return false;
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && equalValues((a as TomlInput)[k], (b as TomlInput)[k]));
  }
  return Object.is(a, b) || (typeof a === "number" && a === b);
}

/** `# ` before each line of a header comment (empty lines become `#`). */
export function tomlComment(text: string): string {
  return text
    .split("\n")
    .map((l) => (l.trim() === "" ? "#" : `# ${l.replace(/\r/g, "")}`))
    .join("\n");
}

/**
 * Render `obj` as TOML with an optional header comment. Throws a TypeError on
 * values TOML cannot hold, and an Error if the text does not parse back to `obj`.
 */
export function renderToml(obj: TomlInput, headerComment?: string): string {
  const cleaned = clean(obj, []) as TomlInput;
  let body = stringify(cleaned).replace(/^\n+/, "").replace(/\n+$/, "");
  if (body !== "") body += "\n";
  const header = headerComment ? `${tomlComment(headerComment)}\n` : "";
  const text = header && body ? `${header}\n${body}` : header + body;
  let back: unknown;
  try {
    back = parse(text, { integersAsBigInt: "asNeeded" });
  } catch (e) {
    throw new Error(`rendered TOML does not parse back: ${e instanceof Error ? e.message : e}`);
  }
  if (!equalValues(cleaned, back)) throw new Error("rendered TOML does not parse back to the same values");
  return text;
}

/** Parse TOML; errors name `label` (e.g. the file path) with line and column. */
export function parseToml(text: string, label = "TOML"): TomlInput {
  try {
    return parse(text) as TomlInput;
  } catch (e) {
    if (e instanceof TomlError) {
      const detail = e.message.split("\n")[0]!.replace(/^Invalid TOML document: /, "");
      throw new TomlParseError(label, e.line, e.column, detail);
    }
    throw e;
  }
}
