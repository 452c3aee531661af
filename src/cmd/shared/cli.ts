/**
 * The command runner every tool goes through: resolves the subcommand chain,
 * answers --help/--version, rejects unknown commands and flags with a
 * "did you mean" (citty accepts unknown flags silently), runs the command and
 * maps errors to exit codes. It never calls process.exit; main.ts does.
 */
import { type ArgsDef, type CommandDef, renderUsage, runCommand } from "citty";
import { DstackError, ExitCode, UsageError } from "../../core/errors.ts";
import { nearest } from "../../core/suggest.ts";
import { versionString } from "./version.ts";

type AnyCommand = CommandDef<any>;

async function resolve<T>(v: T | Promise<T> | (() => T) | (() => Promise<T>)): Promise<T> {
  return typeof v === "function" ? await (v as () => T | Promise<T>)() : await v;
}

interface Resolved {
  chain: AnyCommand[];
  names: string[];
  /** Index in rawArgs where the leaf's own arguments begin. */
  leafStart: number;
}

function flagNames(args: ArgsDef): { valued: Set<string>; all: Set<string> } {
  const valued = new Set<string>();
  const all = new Set<string>();
  for (const [name, def] of Object.entries(args)) {
    if (def.type === "positional") continue;
    const aliases = ([] as string[]).concat((def as { alias?: string | string[] }).alias ?? []);
    const kebab = name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    for (const n of [name, kebab, ...aliases]) {
      all.add(n);
      if (def.type === "string" || def.type === "enum") valued.add(n);
      if (def.type === "boolean" || def.type === undefined) all.add(`no-${n}`);
    }
  }
  return { valued, all };
}

function splitFlag(tok: string): { name: string; hasValue: boolean } {
  const body = tok.replace(/^--?/, "");
  const eq = body.indexOf("=");
  return eq >= 0 ? { name: body.slice(0, eq), hasValue: true } : { name: body, hasValue: false };
}

async function subCommandMap(cmd: AnyCommand): Promise<Map<string, string>> {
  const subs = cmd.subCommands ? await resolve(cmd.subCommands) : undefined;
  const map = new Map<string, string>();
  if (!subs) return map;
  for (const [key, sub] of Object.entries(subs)) {
    map.set(key, key);
    const meta = await resolve((await resolve(sub as AnyCommand)).meta ?? {});
    for (const a of ([] as string[]).concat(meta.alias ?? [])) map.set(a, key);
  }
  return map;
}

async function resolveChain(root: AnyCommand, rawArgs: string[], toolName: string, wantHelp: boolean): Promise<Resolved> {
  const chain: AnyCommand[] = [root];
  const names: string[] = [toolName];
  let cmd = root;
  let i = 0;
  for (;;) {
    if (!cmd.subCommands) return { chain, names, leafStart: i };
    // Subcommand modules load lazily: a name that is a key resolves without
    // loading its siblings; only aliases and suggestions need them all.
    const keys = new Set(Object.keys((await resolve(cmd.subCommands)) ?? {}));
    let full: Map<string, string> | undefined;
    const current = cmd;
    const lookup = async (t: string): Promise<string | undefined> => (keys.has(t) ? t : (full ??= await subCommandMap(current)).get(t));
    const { valued, all } = flagNames(await resolve(cmd.args ?? {}));
    // Find the first positional token: it names the subcommand. Flags before it
    // (`dstack --json ps`, `dstack --host H ps`) are moved after it, so the leaf
    // sees (and checks) them instead of their being dropped. A flag this level
    // does not define takes the next token as its value unless that token is a
    // subcommand name or another flag.
    let j = i;
    while (j < rawArgs.length) {
      const tok = rawArgs[j]!;
      if (tok === "--") break;
      if (tok.startsWith("-") && tok !== "-") {
        const { name, hasValue } = splitFlag(tok);
        let width = 1;
        if (!hasValue && valued.has(name)) width = 2;
        else if (!hasValue && !all.has(name)) {
          const next = rawArgs[j + 1];
          if (next !== undefined && next !== "--" && !next.startsWith("-") && (await lookup(next)) === undefined) width = 2;
        }
        j += width;
        continue;
      }
      break;
    }
    const before = rawArgs.splice(i, Math.min(j, rawArgs.length) - i);
    j = i;
    const tok = rawArgs[j];
    if (tok === undefined || tok === "--" || tok.startsWith("-")) {
      // `tool --help` with no command shows the tool's commands (and names the default), not the default's flags
      const def = cmd.default && !wantHelp ? await resolve(cmd.default) : undefined;
      if (def) {
        const key = (await lookup(def))!;
        const allSubs = (await resolve(cmd.subCommands))!;
        cmd = await resolve(allSubs[key] as AnyCommand);
        chain.push(cmd);
        names.push(key);
        // the default subcommand takes the remaining args (no token consumed)
        rawArgs.splice(j, 0, key, ...before);
        i = j + 1;
        continue;
      }
      rawArgs.splice(i, 0, ...before);
      if (cmd.run || wantHelp) return { chain, names, leafStart: i };
      throw new MissingCommand(chain, names);
    }
    const key = await lookup(tok);
    if (!key) {
      rawArgs.splice(i, 0, ...before);
      if (cmd.run) return { chain, names, leafStart: i };
      const guess = nearest(tok, (full ??= await subCommandMap(cmd)).keys());
      throw new UsageError(`unknown command "${tok}" for "${names.join(" ")}"${guess ? ` — did you mean "${guess}"?` : ""}`, {
        hint: `run \`${names.join(" ")} --help\` to see the commands`,
      });
    }
    const allSubs = (await resolve(cmd.subCommands))!;
    cmd = await resolve(allSubs[key] as AnyCommand);
    chain.push(cmd);
    names.push(key);
    rawArgs.splice(j + 1, 0, ...before);
    i = j + 1;
  }
}

class MissingCommand extends Error {
  constructor(
    readonly chain: AnyCommand[],
    readonly names: string[],
  ) {
    super("a command is required");
  }
}

/** Reject flags the leaf command does not define. */
async function checkFlags(leaf: AnyCommand, rawArgs: string[], start: number, names: string[]): Promise<void> {
  const { valued, all } = flagNames(await resolve(leaf.args ?? {}));
  all.add("help").add("h");
  for (let j = start; j < rawArgs.length; j++) {
    const tok = rawArgs[j]!;
    if (tok === "--") break;
    if (!tok.startsWith("-") || tok === "-" || /^-\d/.test(tok)) continue;
    if (!tok.startsWith("--") && tok.length > 2 && !tok.includes("=")) {
      // -abc: a cluster of short flags
      for (const c of tok.slice(1)) {
        if (!all.has(c)) throw unknownFlag(`-${c}`, all, names);
      }
      continue;
    }
    const { name, hasValue } = splitFlag(tok);
    if (!all.has(name)) throw unknownFlag(tok.split("=")[0]!, all, names);
    if (valued.has(name) && !hasValue) {
      const next = rawArgs[j + 1];
      if (
        next === undefined ||
        next === "--" ||
        (next.startsWith("-") && next !== "-" && !/^-\d/.test(next) && all.has(splitFlag(next).name))
      ) {
        throw new UsageError(`flag ${tok} needs a value`, { hint: `run \`${names.join(" ")} --help\`` });
      }
      j++;
    }
  }
}

/**
 * Values of string/enum flags as given: citty keeps only the last of repeated
 * flags (`-p 1 -p 2` → "2") and reads `-p=1` as "=1". A flag given once maps
 * to its string; a repeated one to every value in order when its help says
 * "repeatable" (see args.ts toList), else to the last value.
 */
function stringFlagValues(args: ArgsDef, rawArgs: string[]): [string[], string | string[]][] {
  const out: [string[], string | string[]][] = [];
  for (const [name, def] of Object.entries(args)) {
    if (def.type !== "string" && def.type !== "enum") continue;
    const aliases = ([] as string[]).concat((def as { alias?: string | string[] }).alias ?? []);
    const camel = name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const kebab = name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    const keys = [...new Set([name, camel, kebab, ...aliases])];
    const values: string[] = [];
    for (let j = 0; j < rawArgs.length; j++) {
      const tok = rawArgs[j]!;
      if (tok === "--") break;
      if (!tok.startsWith("-") || tok === "-") continue;
      const { name: flag, hasValue } = splitFlag(tok);
      if (!keys.includes(flag)) continue;
      if (hasValue) values.push(tok.slice(tok.indexOf("=") + 1));
      else if (j + 1 < rawArgs.length) values.push(rawArgs[++j]!);
    }
    // Only a flag its help calls "repeatable" collects every value; for any other the last one
    // given wins (as docker and kubectl do), so `--port 1 --port 2` never reaches a command as a list.
    const repeatable = /\brepeatable\b/i.test(String((def as { description?: string }).description ?? ""));
    if (values.length) out.push([keys, values.length === 1 || !repeatable ? values[values.length - 1]! : values]);
  }
  return out;
}

function unknownFlag(flag: string, known: Set<string>, names: string[]): UsageError {
  const bare = flag.replace(/^--?/, "");
  const guess = nearest(
    bare,
    [...known].filter((k) => k.length > 1),
  );
  return new UsageError(`unknown flag ${flag} for "${names.join(" ")}"${guess ? ` — did you mean --${guess}?` : ""}`, {
    hint: `run \`${names.join(" ")} --help\` to see the flags`,
  });
}

export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

export const processIo: Io = {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
};

function stripAnsi(s: string): string {
  return s.replace(/\u001b\[[0-9;]*m/g, "");
}

async function usageOf(chain: AnyCommand[]): Promise<string> {
  const leaf = chain[chain.length - 1]!;
  const parent = chain.length > 1 ? chain[chain.length - 2] : undefined;
  const text = await renderUsage(leaf, parent);
  return process.env.NO_COLOR !== undefined || !process.stdout.isTTY ? stripAnsi(text) : text;
}

/** Run a tool with its arguments; returns the exit code. */
export async function runTool(toolName: string, root: AnyCommand, argv: string[], io: Io = processIo): Promise<number> {
  const rawArgs = [...argv];
  // `tool help [COMMAND…]` is `tool [COMMAND…] --help` (as in git, docker, kubectl)
  if (rawArgs[0] === "help") rawArgs.splice(0, rawArgs.length, ...rawArgs.slice(1), "--help");
  const debug = rawArgs.includes("--debug");
  let chain: AnyCommand[] = [root];
  let names: string[] = [toolName];
  try {
    const dashdash = rawArgs.indexOf("--");
    const before = dashdash >= 0 ? rawArgs.slice(0, dashdash) : rawArgs;
    if (before[0] === "--version" || before[0] === "-V" || (before.length === 1 && before[0] === "version")) {
      io.stdout(`${versionString(toolName)}\n`);
      return ExitCode.ok;
    }
    const wantHelp = before.includes("--help") || before.includes("-h");
    const r = await resolveChain(root, rawArgs, toolName, wantHelp);
    chain = r.chain;
    names = r.names;
    const leaf = chain[chain.length - 1]!;
    const leafArgs = dashdash >= 0 ? rawArgs.slice(0, rawArgs.indexOf("--")) : rawArgs;
    if (leafArgs.slice(r.leafStart).some((a) => a === "--help" || a === "-h") || (!leaf.run && !leaf.subCommands)) {
      const def = leaf.default ? await resolve(leaf.default) : undefined;
      const note = def
        ? `\nWith no command, ${names.join(" ")} runs \`${def}\`: see \`${names.join(" ")} ${def} --help\` for its flags.\n`
        : "";
      io.stdout(`${await usageOf(chain)}\n${note}`);
      return ExitCode.ok;
    }
    if (!leaf.run) {
      io.stdout(`${await usageOf(chain)}\n`);
      return ExitCode.usage;
    }
    await checkFlags(leaf, rawArgs, r.leafStart, names);
    const leafRaw = rawArgs.slice(r.leafStart);
    const fixes = stringFlagValues(await resolve(leaf.args ?? {}), leafRaw);
    const run = leaf.run;
    const patched: AnyCommand = {
      ...leaf,
      run: (ctx: Parameters<NonNullable<AnyCommand["run"]>>[0]) => {
        for (const [keys, value] of fixes) for (const k of keys) (ctx.args as Record<string, unknown>)[k] = value;
        return run(ctx);
      },
    };
    const { result } = await runCommand(patched, { rawArgs: leafRaw, data: { names } });
    // A command may return its exit code (e.g. `dstackup status` → 1 when degraded).
    return typeof result === "number" ? result : ExitCode.ok;
  } catch (err) {
    return reportError(err, chain, names, io, debug);
  }
}

async function reportError(err: unknown, chain: AnyCommand[], names: string[], io: Io, debug: boolean): Promise<number> {
  const tool = names[0]!;
  if (err instanceof MissingCommand) {
    io.stderr(`${await usageOf(err.chain)}\n`);
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
  // citty's own argument errors (missing positional, bad enum value)
  if (err instanceof Error && err.name === "CLIError") {
    io.stderr(`${tool}: ${stripAnsi(err.message)}\n\n${await usageOf(chain)}\n`);
    return ExitCode.usage;
  }
  const msg = err instanceof Error ? err.message : String(err);
  io.stderr(`${tool}: ${msg}\n`);
  if (debug && err instanceof Error && err.stack) io.stderr(`${err.stack}\n`);
  else io.stderr(`  (run again with --debug for details)\n`);
  return ExitCode.failure;
}
