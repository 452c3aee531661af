/**
 * Env vars from the command line (`-e KEY=VALUE`, `-e KEY`) and env files
 * (`--env-file FILE`), for encryption with src/core/envcrypt.ts. Values are
 * secrets: nothing here prints or logs them, and messages name keys and lines only.
 *
 * Env-file format (docker compose style): `KEY=VALUE` per line, blank lines and
 * `#` lines ignored, optional `export ` prefix; a value may be "double quoted"
 * (escapes \n \r \t \" \\ \$) or 'single quoted' (literal); an unquoted value
 * ends at ` #` (a comment) and is trimmed. `KEY` alone takes the value from the
 * environment (an error when unset: a secret must not silently go missing).
 */
import { ENV_NAME_RE } from "../compose/names.ts";
import { UsageError } from "../errors.ts";
import type { EnvVar } from "./envcrypt.ts";

type Environ = Record<string, string | undefined>;

function checkKey(key: string, where: string): void {
  if (!ENV_NAME_RE.test(key) || key.length > 255) {
    throw new UsageError(`${where}: invalid env name ${JSON.stringify(key)}: names match [A-Za-z_][A-Za-z0-9_]* (at most 255 characters)`);
  }
}

/** `KEY=VALUE` or `KEY` (value from `environ`). */
export function parseEnvArg(arg: string, environ: Environ = process.env, flag = "--env"): EnvVar {
  const eq = arg.indexOf("=");
  const key = eq >= 0 ? arg.slice(0, eq) : arg;
  checkKey(key, `${flag} ${JSON.stringify(key)}`);
  if (eq >= 0) return { key, value: arg.slice(eq + 1) };
  const value = environ[key];
  if (value === undefined) {
    throw new UsageError(`${flag} ${key}: no value given and ${key} is not set in your environment`, {
      hint: `pass ${flag} ${key}=VALUE, export ${key}, or use --env-file`,
    });
  }
  return { key, value };
}

function unquoteDouble(s: string, where: string): { value: string; rest: string } {
  let out = "";
  for (let i = 1; i < s.length; i++) {
    const c = s[i]!;
    if (c === '"') return { value: out, rest: s.slice(i + 1) };
    if (c === "\\" && i + 1 < s.length) {
      const n = s[++i]!;
      out += n === "n" ? "\n" : n === "r" ? "\r" : n === "t" ? "\t" : n === '"' || n === "\\" || n === "$" ? n : `\\${n}`;
    } else out += c;
  }
  throw new UsageError(`${where}: unterminated double-quoted value`);
}

/** Parse an env file's text; `label` names it in messages. Later keys override earlier ones. */
export function parseEnvFile(text: string, label: string, environ: Environ = process.env): EnvVar[] {
  const vars = new Map<string, string>();
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  lines.forEach((raw, i) => {
    const where = `${label}:${i + 1}`;
    let line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    if (/^export\s+/.test(line)) line = line.replace(/^export\s+/, "");
    const eq = line.indexOf("=");
    if (eq < 0) {
      checkKey(line, where);
      const v = environ[line];
      if (v === undefined) throw new UsageError(`${where}: ${line} has no value and is not set in your environment`);
      vars.set(line, v);
      return;
    }
    const key = line.slice(0, eq).trim();
    checkKey(key, where);
    const rest = line.slice(eq + 1).trimStart();
    let value: string;
    let after = "";
    if (rest.startsWith('"')) {
      ({ value, rest: after } = unquoteDouble(rest, where));
    } else if (rest.startsWith("'")) {
      const end = rest.indexOf("'", 1);
      if (end < 0) throw new UsageError(`${where}: unterminated single-quoted value`);
      value = rest.slice(1, end);
      after = rest.slice(end + 1);
    } else {
      const hash = rest.search(/\s#/);
      value = (hash >= 0 ? rest.slice(0, hash) : rest).trimEnd();
    }
    if (after.trim() !== "" && !after.trim().startsWith("#"))
      throw new UsageError(`${where}: unexpected text after the quoted value of ${key}`);
    vars.delete(key); // keep the order of the last assignment
    vars.set(key, value);
  });
  return [...vars].map(([key, value]) => ({ key, value }));
}

/** Merge lists; a later value for a key replaces an earlier one (files first, then -e, as docker does). */
export function mergeEnv(...lists: EnvVar[][]): EnvVar[] {
  const m = new Map<string, string>();
  for (const l of lists)
    for (const v of l) {
      m.delete(v.key);
      m.set(v.key, v.value);
    }
  return [...m].map(([key, value]) => ({ key, value }));
}
