/**
 * A command: its name and help, its argument definitions, and either subcommands (loaded lazily)
 * or a run. src/cmd/shared/cli.ts parses argv once against the definitions and calls run.
 */
import type { ArgsDef, ParsedArgs } from "../../core/argv.ts";
import type { Env, Io } from "../../core/io.ts";

export interface CommandMeta {
  name: string;
  description?: string;
  version?: string;
  alias?: readonly string[];
}

/** A subcommand, or a function that loads its module (so that running one loads none of its siblings). */
export type Lazy<T> = T | (() => Promise<T>);

export interface RunContext<T extends ArgsDef> {
  args: ParsedArgs<T>;
  /** The command's own argv (flags given before its name included), e.g. to find `--`. */
  rawArgs: string[];
  io: Io;
  env: Env;
  /** The command path: ["dstack", "allowlist", "ls"]. */
  names: string[];
}

export interface Command<T extends ArgsDef = ArgsDef> {
  meta: CommandMeta;
  args?: T;
  subCommands?: Record<string, Lazy<AnyCommand>>;
  /** The subcommand run when none is named (`dstack-auth` → `serve`). */
  default?: string;
  /** Returns the exit code, or nothing for 0. (Method syntax: any command is an AnyCommand.) */
  run?(ctx: RunContext<T>): number | undefined | Promise<number | undefined> | Promise<void> | void;
}

/** A command whatever its arguments: what the runner and the help walk. */
export type AnyCommand = Command<ArgsDef>;

export function defineCommand<const T extends ArgsDef = Record<never, never>>(def: Command<T>): Command<T> {
  return def;
}

export async function load<T>(v: Lazy<T>): Promise<T> {
  return typeof v === "function" ? await (v as () => Promise<T>)() : v;
}
