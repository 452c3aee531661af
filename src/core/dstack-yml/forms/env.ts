/**
 * `env:` (dstackai/dstack: src/dstack/_internal/core/models/envs.py) and its resolution on the client
 * (`apply_env_vars`): the list form `VAR=value`, `VAR=` (empty) or `VAR` (take
 * it from the caller's environment), or the map form `{VAR: value}`; then each
 * `-e KEY=VAL` / `-e KEY` overrides, then value-less names are read from the
 * process environment; a missing one is `Environment variable KEY is not set`.
 * Values are secrets: messages name keys only (a duplicate's message is
 * dstackai's, which shows the item as written in the file).
 */
import { GrammarError } from "./grammar-error.ts";

/** undefined = no value yet (dstackai's sentinel): comes from the environment */
export type EnvSpec = Map<string, string | undefined>;

const ITEM = /^([a-zA-Z_][a-zA-Z0-9_]*)(=.*$|$)/s;

export function parseEnv(v: unknown): EnvSpec {
  const out: EnvSpec = new Map();
  if (Array.isArray(v)) {
    for (const item of v) {
      const s = typeof item === "number" ? String(item) : item;
      if (typeof s !== "string") throw new GrammarError("env items should be strings: VAR=value, VAR= or VAR");
      const m = ITEM.exec(s);
      if (!m) throw new GrammarError(`Invalid environment variable ${JSON.stringify(s.split("=")[0])}: names match [a-zA-Z_][a-zA-Z0-9_]*`);
      if (out.has(m[1]!)) throw new GrammarError(`Duplicate environment variable: ${s}`);
      out.set(m[1]!, m[2] === "" ? undefined : m[2]!.slice(1));
    }
    return out;
  }
  if (v !== null && typeof v === "object") {
    for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
      if (typeof val === "string") out.set(k, val);
      else if (typeof val === "number") out.set(k, String(val));
      else if (typeof val === "boolean")
        throw new GrammarError(`${k}: YAML 1.1 reads an unquoted ${val ? "yes/on/true" : "no/off/false"} as a boolean: quote it`);
      else throw new GrammarError(`${k}: Input should be a valid string`);
    }
    return out;
  }
  throw new GrammarError("Input should be a list (VAR=value items) or a mapping");
}

/** `-e KEY=VAL` / `-e KEY` (the CLI's form of one item) */
export function parseEnvOverride(arg: string): [string, string | undefined] {
  const m = ITEM.exec(arg);
  if (!m) throw new GrammarError(`Invalid environment variable ${JSON.stringify(arg.split("=")[0])}: names match [a-zA-Z_][a-zA-Z0-9_]*`);
  return [m[1]!, m[2] === "" ? undefined : m[2]!.slice(1)];
}

/** The CLI's overrides, then the process environment for every name still without a value. */
export function resolveEnv(spec: EnvSpec, overrides: string[], environ: Record<string, string | undefined>): Map<string, string> {
  const merged = new Map(spec);
  for (const o of overrides) {
    const [k, val] = parseEnvOverride(o);
    merged.set(k, val);
  }
  const out = new Map<string, string>();
  for (const [k, val] of merged) {
    const value = val ?? environ[k];
    if (value === undefined) throw new GrammarError(`Environment variable ${k} is not set`);
    out.set(k, value);
  }
  return out;
}
