/**
 * `--help` text of a command: description, usage line, arguments, options, subcommands. The
 * layout is citty's, which the tools used before they parsed argv themselves.
 */
import type { ArgDef } from "../../core/argv.ts";
import { type AnyCommand, load } from "./command.ts";

type Paint = (s: string) => string;

function painter(color: boolean) {
  const c =
    (on: number, off = 39): Paint =>
    (s) =>
      color ? `\u001b[${on}m${s}\u001b[${off}m` : s;
  return { bold: c(1, 22), cyan: c(36), gray: c(90), underline: c(4, 24) };
}

function columns(rows: string[][], prefix: string): string {
  const width: number[] = [];
  for (const r of rows) for (const [i, cell] of r.entries()) width[i] = Math.max(width[i] ?? 0, cell.length);
  return rows
    .map((r) =>
      r
        .map((cell, i) => prefix + cell[i === 0 ? "padStart" : "padEnd"](width[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

const snake = (s: string) =>
  s
    .replace(/[-\s]+/g, "_")
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toLowerCase();

function valueHint(name: string, def: ArgDef): string {
  const hint = def.valueHint ? `=<${def.valueHint}>` : "";
  return def.type === "string" ? hint || `=<${snake(name)}>` : hint;
}

/** The help of the last command of `chain` (the path from the tool's root), named by `names`. */
export async function renderUsage(chain: AnyCommand[], names: string[], color: boolean): Promise<string> {
  const { bold, cyan, gray, underline } = painter(color);
  const cmd = chain[chain.length - 1]!;
  const parent = chain.length > 1 ? chain[chain.length - 2] : undefined;
  const describe = (def: ArgDef, required: boolean) =>
    [def.description, required ? gray("(Required)") : "", def.default === undefined ? "" : gray(`(Default: ${def.default})`)]
      .filter(Boolean)
      .join(" ");
  const argLines: string[][] = [];
  const posLines: string[][] = [];
  const usageLine: string[] = [];
  for (const [name, def] of Object.entries((cmd.args ?? {}) as Record<string, ArgDef>)) {
    if (def.type === "positional") {
      const up = name.toUpperCase();
      const required = def.required !== false && def.default === undefined;
      posLines.push([cyan(up + valueHint(name, def)), describe(def, required)]);
      usageLine.push(required ? `<${up}>` : `[${up}]`);
      continue;
    }
    const required = def.required === true && def.default === undefined;
    const aliases = def.alias === undefined ? [] : typeof def.alias === "string" ? [def.alias] : def.alias;
    argLines.push([cyan([...aliases.map((a) => `-${a}`), `--${name}`].join(", ") + valueHint(name, def)), describe(def, required)]);
    if (required) usageLine.push(`--${name}${valueHint(name, def)}`);
  }
  const commandLines: string[][] = [];
  if (cmd.subCommands) {
    const all: string[] = [];
    for (const [key, sub] of Object.entries(cmd.subCommands)) {
      const meta = (await load(sub)).meta;
      commandLines.push([cyan([key, ...(meta.alias ?? [])].join(", ")), meta.description ?? ""]);
      all.push(key, ...(meta.alias ?? []));
    }
    usageLine.push(all.join("|"));
  }
  const name = names.join(" ");
  const version = cmd.meta.version ?? parent?.meta.version;
  const lines = [gray(`${cmd.meta.description} (${name}${version ? ` v${version}` : ""})`), ""];
  const hasOptions = argLines.length > 0 || posLines.length > 0;
  lines.push(`${underline(bold("USAGE"))} ${cyan(`${name}${hasOptions ? " [OPTIONS]" : ""} ${usageLine.join(" ")}`)}`, "");
  if (posLines.length) lines.push(underline(bold("ARGUMENTS")), "", columns(posLines, "  "), "");
  if (argLines.length) lines.push(underline(bold("OPTIONS")), "", columns(argLines, "  "), "");
  if (commandLines.length) {
    lines.push(underline(bold("COMMANDS")), "", columns(commandLines, "  "));
    lines.push("", `Use ${cyan(`${name} <command> --help`)} for more information about a command.`);
  }
  return lines.join("\n");
}
