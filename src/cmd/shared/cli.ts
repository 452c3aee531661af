/**
 * The command runner every tool goes through: finds the command path in argv, answers
 * --help/--version, parses the command's arguments once (src/core/argv.ts), runs it and maps
 * errors to exit codes. It never calls process.exit; main.ts does.
 */
import { flagTable, isFlagToken, lookupFlag, MissingArgumentError, parseArgv } from "../../core/argv.ts";
import { DstackError, ExitCode, UsageError } from "../../core/errors.ts";
import type { Env, Io } from "../../core/io.ts";
import { nearest } from "../../core/text/suggest.ts";
import { versionString } from "../../core/version.ts";
import { type AnyCommand, load } from "./command.ts";
import { renderUsage } from "./usage.ts";

export interface ToolOptions {
  io: Io;
  env: Env;
}

interface Located {
  chain: AnyCommand[];
  names: string[];
  /** The last command's own argv: the flags given before its name, then what follows it. */
  argv: string[];
}

class MissingCommand extends Error {
  constructor(
    readonly chain: AnyCommand[],
    readonly names: string[],
  ) {
    super("a command is required");
  }
}

/** The subcommand a token names (its key), by key or alias. Aliases load every sibling; a key loads none. */
async function subcommandKey(cmd: AnyCommand, tok: string): Promise<string | undefined> {
  const subs = cmd.subCommands ?? {};
  if (Object.hasOwn(subs, tok)) return tok;
  for (const [key, sub] of Object.entries(subs)) if ((await load(sub)).meta.alias?.includes(tok)) return key;
  return undefined;
}

/**
 * Walk the subcommand tree along argv. Flags before a subcommand's name (`dstack --json ps`,
 * `dstack --host H ps`) are carried to the command that is run, which parses them with its own.
 * A flag the current level does not define takes the next token as its value unless that token
 * names a subcommand.
 */
async function locate(root: AnyCommand, argv: string[], tool: string, wantHelp: boolean): Promise<Located> {
  const chain: AnyCommand[] = [root];
  const names = [tool];
  const carried: string[] = [];
  let cmd = root;
  let rest = argv;
  const descend = async (key: string) => {
    cmd = await load(cmd.subCommands![key]!);
    chain.push(cmd);
    names.push(key);
  };
  for (;;) {
    if (!cmd.subCommands) return { chain, names, argv: [...carried, ...rest] };
    const table = flagTable(cmd.args ?? {});
    let j = 0;
    while (j < rest.length && isFlagToken(rest[j]!)) {
      const tok = rest[j]!;
      const f = lookupFlag(table, tok);
      let width = 1;
      if (!tok.includes("=")) {
        const next = rest[j + 1];
        if (f) width = f.def.type === "boolean" ? 1 : 2;
        else if (next !== undefined && next !== "--" && !isFlagToken(next) && (await subcommandKey(cmd, next)) === undefined) width = 2;
      }
      j += width;
    }
    const before = rest.slice(0, j);
    const tok = rest[j];
    if (tok === undefined || tok === "--") {
      // `tool --help` with no command shows the tool's commands (and names the default), not the default's flags
      if (cmd.default && !wantHelp) {
        await descend(cmd.default);
        carried.push(...before);
        rest = rest.slice(j);
        continue;
      }
      if (cmd.run || wantHelp) return { chain, names, argv: [...carried, ...rest] };
      throw new MissingCommand(chain, names);
    }
    const key = await subcommandKey(cmd, tok);
    if (!key) {
      if (cmd.run) return { chain, names, argv: [...carried, ...rest] };
      const all = Object.keys(cmd.subCommands);
      for (const sub of Object.values(cmd.subCommands)) all.push(...((await load(sub)).meta.alias ?? []));
      const guess = nearest(tok, all);
      throw new UsageError(`unknown command "${tok}" for "${names.join(" ")}"${guess ? ` — did you mean "${guess}"?` : ""}`, {
        hint: `run \`${names.join(" ")} --help\` to see the commands`,
      });
    }
    await descend(key);
    carried.push(...before);
    rest = rest.slice(j + 1);
  }
}

/** Run a tool with its arguments; returns the exit code. */
export async function runTool(toolName: string, root: AnyCommand, argv: string[], opts: ToolOptions): Promise<number> {
  const { io, env } = opts;
  // `tool help [COMMAND…]` is `tool [COMMAND…] --help` (as in git, docker, kubectl)
  const rawArgs = argv[0] === "help" ? [...argv.slice(1), "--help"] : [...argv];
  const dashdash = rawArgs.indexOf("--");
  const flags = dashdash >= 0 ? rawArgs.slice(0, dashdash) : rawArgs;
  const debug = flags.includes("--debug");
  let chain: AnyCommand[] = [root];
  let names = [toolName];
  try {
    if (flags[0] === "--version" || flags[0] === "-V" || (flags.length === 1 && flags[0] === "version")) {
      io.stdout(`${versionString(toolName)}\n`);
      return ExitCode.ok;
    }
    const wantHelp = flags.includes("--help") || flags.includes("-h");
    const at = await locate(root, rawArgs, toolName, wantHelp);
    chain = at.chain;
    names = at.names;
    const leaf = chain[chain.length - 1]!;
    if (wantHelp || !leaf.run) {
      const note = leaf.default
        ? `\nWith no command, ${names.join(" ")} runs \`${leaf.default}\`: see \`${names.join(" ")} ${leaf.default} --help\` for its flags.\n`
        : "";
      io.stdout(`${await renderUsage(chain, names, io.color)}\n${note}`);
      return wantHelp ? ExitCode.ok : ExitCode.usage;
    }
    const args = parseArgv(at.argv, leaf.args ?? {}, names.join(" "));
    // A command may return its exit code (e.g. `dstackup status` → 1 when degraded).
    const result = await leaf.run({ args, rawArgs: at.argv, io, env, names });
    return typeof result === "number" ? result : ExitCode.ok;
  } catch (err) {
    return reportError(err, chain, names, io, debug);
  }
}

async function reportError(err: unknown, chain: AnyCommand[], names: string[], io: Io, debug: boolean): Promise<number> {
  const tool = names[0]!;
  if (err instanceof MissingCommand) {
    io.stderr(`${await renderUsage(err.chain, err.names, io.color)}\n`);
    return ExitCode.usage;
  }
  if (err instanceof MissingArgumentError) {
    io.stderr(`${tool}: ${err.message}\n\n${await renderUsage(chain, names, io.color)}\n`);
    return ExitCode.usage;
  }
  if (err instanceof UsageError) {
    io.stderr(`${tool}: ${err.message}\n`);
    if (err.hint) io.stderr(`  ${err.hint}\n`);
    return ExitCode.usage;
  }
  if (err instanceof DstackError) {
    io.stderr(`${tool}: ${err.message}\n`);
    if (err.hint) io.stderr(`  next: ${err.hint}\n`);
    if (debug && err.stack) io.stderr(`${err.stack}\n`);
    return err.exitCode;
  }
  const msg = err instanceof Error ? err.message : String(err);
  io.stderr(`${tool}: ${msg}\n`);
  if (debug && err instanceof Error && err.stack) io.stderr(`${err.stack}\n`);
  else io.stderr(`  (run again with --debug for details)\n`);
  return ExitCode.failure;
}
