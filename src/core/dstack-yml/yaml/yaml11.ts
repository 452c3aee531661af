/**
 * YAML as dstackai reads it: PyYAML's `safe_load` (YAML 1.1, one document).
 * Plain scalars resolve by PyYAML's implicit resolvers, not YAML 1.2's, so
 * `off`/`yes`/`On` are booleans (but `y`/`n` stay strings), `0755` is octal,
 * `1:30` is the sexagesimal int 90, `3.10` is the float 3.1 and `1e5` (no dot)
 * is a string. Quoted and block scalars are always strings. `<<` merge keys
 * and aliases work; duplicate keys keep the last value, as PyYAML does.
 *
 * Besides the value, the loader returns the line of every path (the key's line
 * for a mapping entry), so messages can name `FILE:LINE`.
 */
import { type Document, isAlias, isMap, isScalar, isSeq, LineCounter, type Node, parseAllDocuments } from "yaml";

export type Path = readonly (string | number)[];

/** `resources.gpu`, `commands[2]`, `env.HF_TOKEN`; the root is "(top level)". */
export function formatPath(path: Path): string {
  let s = "";
  for (const p of path) s += typeof p === "number" ? `[${p}]` : s === "" ? p : `.${p}`;
  return s === "" ? "(top level)" : s;
}

export interface Loaded {
  value: unknown;
  /** 1-based line of a path (the nearest recorded ancestor when the path itself is not). */
  lineOf(path: Path): number;
}

export class YamlSyntaxError extends Error {
  readonly line: number;
  constructor(message: string, line: number) {
    super(message);
    this.name = "YamlSyntaxError";
    this.line = line;
  }
}

const BOOL_TRUE = /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/;
const BOOL_FALSE = /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/;
const NULL = /^(?:~|null|Null|NULL|)$/;
const INT = /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const FLOAT =
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;

function sexagesimal(digits: string): number {
  let v = 0;
  for (const part of digits.split(":")) v = v * 60 + Number(part);
  return v;
}

/** What PyYAML's SafeLoader makes of a plain (unquoted) scalar. */
export function resolvePlain(text: string): null | boolean | number | string {
  if (NULL.test(text)) return null;
  if (BOOL_TRUE.test(text)) return true;
  if (BOOL_FALSE.test(text)) return false;
  if (INT.test(text)) {
    let s = text.replaceAll("_", "");
    let sign = 1;
    if (s[0] === "-" || s[0] === "+") {
      if (s[0] === "-") sign = -1;
      s = s.slice(1);
    }
    if (s === "0") return 0;
    if (s.startsWith("0b")) return sign * Number.parseInt(s.slice(2), 2);
    if (s.startsWith("0x")) return sign * Number.parseInt(s.slice(2), 16);
    if (s.startsWith("0")) return sign * Number.parseInt(s, 8);
    if (s.includes(":")) return sign * sexagesimal(s);
    return sign * Number(s);
  }
  if (FLOAT.test(text)) {
    let s = text.replaceAll("_", "").toLowerCase();
    let sign = 1;
    if (s[0] === "-" || s[0] === "+") {
      if (s[0] === "-") sign = -1;
      s = s.slice(1);
    }
    if (s === ".inf") return sign * Number.POSITIVE_INFINITY;
    if (s === ".nan") return Number.NaN;
    if (s.includes(":")) {
      const [whole, frac = ""] = s.split(".");
      return sign * (sexagesimal(whole!) + Number(`0.${frac || "0"}`));
    }
    return sign * Number(s.endsWith(".") ? s.slice(0, -1) : s);
  }
  return text;
}

/** Parse one YAML 1.1 document. Throws YamlSyntaxError (with a line) on bad YAML or a second document. */
export function loadYaml11(text: string): Loaded {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { schema: "failsafe", lineCounter: lc, uniqueKeys: false, prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [];
  const lineAt = (offset: number | undefined) => (offset === undefined ? 1 : lc.linePos(offset).line);
  if (list.length > 1)
    throw new YamlSyntaxError("expected a single document in the stream, but found another document", lineAt(list[1]!.range[0]));
  const doc = list[0];
  const lines = new Map<string, number>([["", 1]]);
  if (!doc) return { value: null, lineOf: () => 1 };
  const err = doc.errors[0];
  if (err) throw new YamlSyntaxError(err.message.split("\n")[0]!, lineAt(err.pos[0]));
  const value = toValue(doc as Document, doc.contents as Node | null, [], lines, lineAt, 0);
  return {
    value,
    lineOf(path) {
      for (let n = path.length; n >= 0; n--) {
        const l = lines.get(key(path.slice(0, n)));
        if (l !== undefined) return l;
      }
      return 1;
    },
  };
}

function key(path: Path): string {
  return path.map((p) => (typeof p === "number" ? `#${p}` : `.${p}`)).join("");
}

const MAX_DEPTH = 64;

function toValue(
  doc: Document,
  node: Node | null | undefined,
  path: (string | number)[],
  lines: Map<string, number>,
  lineAt: (o: number | undefined) => number,
  depth: number,
): unknown {
  if (depth > MAX_DEPTH) throw new YamlSyntaxError("nesting too deep (or a recursive alias)", lineAt(node?.range?.[0]));
  let n = node;
  if (n && isAlias(n)) n = n.resolve(doc) as Node | undefined;
  if (n === null || n === undefined) return null;
  if (isScalar(n)) {
    const raw = String(n.value ?? "");
    if (n.tag === "tag:yaml.org,2002:str" || (n.type !== "PLAIN" && n.type !== undefined)) return raw;
    return resolvePlain(raw);
  }
  if (isSeq(n)) {
    return n.items.map((item, i) => {
      const p = [...path, i];
      lines.set(key(p), lineAt((item as Node | null)?.range?.[0] ?? n.range?.[0]));
      return toValue(doc, item as Node, p, lines, lineAt, depth + 1);
    });
  }
  if (isMap(n)) {
    const out: Record<string, unknown> = {};
    const merged: Record<string, unknown> = {};
    for (const pair of n.items) {
      const k = pair.key as Node | null;
      const kText = k && isScalar(k) ? String(k.value ?? "") : String(toValue(doc, k, path, lines, lineAt, depth + 1));
      if (kText === "<<" && k && isScalar(k) && k.type === "PLAIN") {
        const src = toValue(doc, pair.value as Node, path, lines, lineAt, depth + 1);
        for (const m of (Array.isArray(src) ? src : [src]).reverse()) {
          if (m === null || typeof m !== "object" || Array.isArray(m)) {
            throw new YamlSyntaxError("expected a mapping or list of mappings for merging", lineAt(k.range?.[0]));
          }
          Object.assign(merged, m);
        }
        continue;
      }
      const p = [...path, kText];
      lines.set(key(p), lineAt(k?.range?.[0]));
      Object.defineProperty(out, kText, {
        value: toValue(doc, pair.value as Node, p, lines, lineAt, depth + 1),
        enumerable: true,
        configurable: true,
        writable: true,
      });
    }
    for (const [k, v] of Object.entries(merged)) if (!Object.hasOwn(out, k)) out[k] = v;
    return out;
  }
  return null;
}
