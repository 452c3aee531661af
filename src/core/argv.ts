/**
 * The one argv parse: a command's arguments read strictly against its own definitions, with
 * getopt's rules — `-n5`, `-n=5`, `-n 5`, `--lines=5`, `--lines 5`, `-qa` clusters, `--no-x` for
 * a boolean x, `--` ends the flags. Unknown flags are usage errors with a "did you mean".
 */
import { UsageError } from "./errors.ts";
import { nearest } from "./text/suggest.ts";

/** One argument of a command, as its definition declares it. */
export interface ArgDef {
  type: "string" | "boolean" | "positional";
  description?: string;
  /** The value's name in help: `--port=<SPEC>`. */
  valueHint?: string;
  /** One letter: `-p`; longer: another `--name`. */
  alias?: string | readonly string[];
  default?: string | boolean;
  /** Positionals are required unless `required: false`; flags only when `required: true`. */
  required?: boolean;
  /** A string flag given again adds a value (`-p 1 -p 2` → ["1", "2"]); otherwise the last one wins. */
  multiple?: boolean;
  /** A positional that may be followed by more of its kind (`rm VM…`; all of them are in `_`). */
  variadic?: boolean;
}

export type ArgsDef = Readonly<Record<string, ArgDef>>;

type ValueOf<D extends ArgDef> = D extends { type: "boolean" }
  ? D extends { default: boolean }
    ? boolean
    : boolean | undefined
  : D extends { multiple: true }
    ? string[]
    : D extends { type: "positional" }
      ? D extends { required: false; default?: undefined }
        ? string | undefined
        : string
      : D extends { default: string } | { required: true }
        ? string
        : string | undefined;

/** What a command receives: each argument by its definition's name; `_` every positional, those after `--` included. */
export type ParsedArgs<T extends ArgsDef> = { -readonly [K in keyof T]: ValueOf<T[K]> } & { _: string[] };

/** A required argument is missing: the caller shows the command's usage with it. */
export class MissingArgumentError extends UsageError {
  constructor(message: string) {
    super(message);
    this.name = "MissingArgumentError";
  }
}

interface Flag {
  name: string;
  def: ArgDef;
  negated?: boolean;
}

interface FlagTable {
  long: Map<string, Flag>;
  short: Map<string, Flag>;
}

function aliasesOf(def: ArgDef): readonly string[] {
  return def.alias === undefined ? [] : typeof def.alias === "string" ? [def.alias] : def.alias;
}

export function flagTable(defs: ArgsDef): FlagTable {
  const long = new Map<string, Flag>();
  const short = new Map<string, Flag>();
  for (const [name, def] of Object.entries(defs)) {
    if (def.type === "positional") continue;
    long.set(name, { name, def });
    for (const a of aliasesOf(def)) (a.length === 1 ? short : long).set(a, { name, def });
  }
  for (const [name, def] of Object.entries(defs)) {
    if (def.type === "boolean" && !long.has(`no-${name}`)) long.set(`no-${name}`, { name, def, negated: true });
  }
  return { long, short };
}

/** A token that is a flag: `-x…` or `--x…`, but not `-`, `--` or a negative number. */
export function isFlagToken(tok: string): boolean {
  return tok.startsWith("-") && tok !== "-" && tok !== "--" && !/^-\d/.test(tok);
}

/** The flag a token names in this table, if any (`--name=v` → name; `-abc` → a). */
export function lookupFlag(table: FlagTable, tok: string): Flag | undefined {
  if (!isFlagToken(tok)) return undefined;
  if (tok.startsWith("--")) {
    const eq = tok.indexOf("=");
    return table.long.get(eq < 0 ? tok.slice(2) : tok.slice(2, eq));
  }
  return table.short.get(tok[1]!);
}

/**
 * Parse `argv` against `defs`. `label` names the command in messages (`dstack logs`).
 * Throws UsageError for an unknown flag, a flag without its value or a boolean given one, and
 * MissingArgumentError for a missing required argument.
 */
export function parseArgv<T extends ArgsDef>(argv: readonly string[], defs: T, label: string): ParsedArgs<T> {
  const table = flagTable(defs);
  const values: Record<string, unknown> = {};
  const positionals: string[] = [];
  /** how many came before `--` (what follows it is the command's own: a container's command, a run's args) */
  let flagged: number | undefined;
  const help = { hint: `run \`${label} --help\`` };
  const set = (f: Flag, v: string | boolean) => {
    if (f.def.multiple && typeof v === "string") values[f.name] = [...((values[f.name] as string[] | undefined) ?? []), v];
    else values[f.name] = v;
  };
  const unknown = (flag: string) => {
    const guess = nearest(flag.replace(/^--?/, ""), [...table.long.keys(), "help"]);
    return new UsageError(`unknown flag ${flag} for "${label}"${guess ? ` — did you mean --${guess}?` : ""}`, {
      hint: `run \`${label} --help\` to see the flags`,
    });
  };
  const valueAfter = (i: number, shown: string): string => {
    const next = argv[i + 1];
    if (next === undefined || next === "--" || lookupFlag(table, next)) throw new UsageError(`flag ${shown} needs a value`, help);
    return next;
  };
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i]!;
    if (tok === "--") {
      flagged = positionals.length;
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!isFlagToken(tok)) {
      positionals.push(tok);
      continue;
    }
    if (tok.startsWith("--")) {
      const eq = tok.indexOf("=");
      const key = eq < 0 ? tok.slice(2) : tok.slice(2, eq);
      const f = table.long.get(key);
      if (!f) throw unknown(`--${key}`);
      if (f.def.type === "boolean") {
        if (eq >= 0) throw new UsageError(`flag --${key} takes no value (got ${tok})`, help);
        set(f, !f.negated);
      } else if (eq >= 0) set(f, tok.slice(eq + 1));
      else set(f, valueAfter(i++, `--${key}`));
      continue;
    }
    // -abc: a cluster of short flags; the first that takes a value takes the rest (`-n5`, `-n=5`) or the next token
    for (let k = 1; k < tok.length; k++) {
      const f = table.short.get(tok[k]!);
      if (!f) throw unknown(`-${tok[k]}`);
      if (f.def.type === "boolean") {
        set(f, true);
        continue;
      }
      const rest = tok.slice(k + 1);
      if (rest !== "") set(f, rest.startsWith("=") ? rest.slice(1) : rest);
      else set(f, valueAfter(i++, `-${tok[k]}`));
      break;
    }
  }
  const declared = Object.values(defs).filter((d) => d.type === "positional");
  const extra = positionals.slice(declared.length, flagged ?? positionals.length);
  if (extra.length && !declared.some((d) => d.variadic)) {
    const takes = declared.length ? `${declared.length} argument${declared.length > 1 ? "s" : ""}` : "no arguments";
    throw new UsageError(`"${label}" takes ${takes}: unexpected ${extra.map((x) => JSON.stringify(x)).join(" ")}`, help);
  }
  let p = 0;
  for (const [name, def] of Object.entries(defs)) {
    if (def.type === "positional") {
      const v = positionals[p++];
      if (v !== undefined) values[name] = v;
      else if (def.default !== undefined) values[name] = def.default;
      else if (def.required !== false) throw new MissingArgumentError(`Missing required positional argument: ${name.toUpperCase()}`);
    } else if (values[name] === undefined) {
      if (def.multiple) values[name] = def.default === undefined ? [] : [def.default];
      else if (def.default !== undefined) values[name] = def.default;
      if (def.required && (values[name] === undefined || (def.multiple && (values[name] as string[]).length === 0)))
        throw new MissingArgumentError(`Missing required argument: --${name}`);
    }
  }
  values._ = positionals;
  return values as ParsedArgs<T>;
}
