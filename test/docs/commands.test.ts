/**
 * The commands in the docs' shell code blocks use commands and flags that exist: for each
 * `dstack …`, `dstackup …`, `dstack-auth …` and `dstack-vmm-sim …` the subcommand is found by
 * asking the tool for its help (in-process, the binary's code path), and every flag must be in it; `install.sh`
 * flags must be in `sh install.sh --help`, and `bun run X` must be a package.json script.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { isTool } from "../../src/tools.ts";
import { runCli } from "../helpers/cli.ts";
import { ROOT, type RunResult, spawnCapture } from "../helpers/run.ts";
import { codeBlocks, docs } from "./markdown.ts";
import { type Command, commands } from "./shell-words.ts";

/** Tools whose every use names a command. */
const NEEDS_COMMAND = ["dstack", "dstackup"];
/** What a tool runs when no command is named (`dstack-auth --help` says so). */
const DEFAULT_VERB: Record<string, string> = { "dstack-auth": "serve" };

const helps = new Map<string, Promise<RunResult>>();
function help(argv: string[]): Promise<RunResult> {
  const key = argv.join(" ");
  if (!helps.has(key)) {
    const [tool = "", ...path] = argv;
    helps.set(key, isTool(tool) ? runCli(tool, [...path, "--help"]) : spawnCapture(["sh", join(ROOT, "install.sh"), "--help"]));
  }
  return helps.get(key)!;
}

/** The flags a command line uses (up to `--`): `--name` for long ones, `-x` for each letter of a short cluster. */
function flagsOf(words: string[]): string[] {
  const flags: string[] = [];
  for (const raw of words) {
    const w = raw.replace(/^\[|\]$/g, "");
    if (w === "--") break;
    if (w.startsWith("--")) flags.push(w.split("=")[0]!);
    else if (/^-[A-Za-z]/.test(w)) for (const ch of w.slice(1).match(/^[A-Za-z]+/)![0]) flags.push(`-${ch}`);
  }
  return flags;
}

/** Whether a help text lists a flag (`--name`, `--name=<V>`, `-x, --long`). */
function helpLists(helpText: string, flag: string): boolean {
  const esc = flag.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(^|[\\s,\\[])${esc}(?=[\\s,=\\]<]|$)`, "m").test(helpText);
}

/** The tool's subcommand path a command line names: each word that has a help of its own, different from its parent's. */
async function commandPath(tool: string, words: string[]): Promise<string[]> {
  const path: string[] = [];
  let parent = (await help([tool])).stdout;
  for (const w of words) {
    if (w === "--") break;
    if (w.startsWith("-")) continue;
    const r = await help([tool, ...path, w]);
    if (r.code === 0 && r.stdout !== parent) {
      path.push(w);
      parent = r.stdout;
    } else if (path.length) break;
  }
  if (!path.length && DEFAULT_VERB[tool]) path.push(DEFAULT_VERB[tool]);
  return path;
}

/** What is wrong with one documented command, or nothing. */
async function problems(cmd: Command, previous: Command | undefined): Promise<string[]> {
  const words = cmd.filter((w, i) => !(i === 0 && w === "sudo"));
  const [first = "", ...rest] = words;
  const shown = cmd.join(" ");
  if (first === "bun" && rest[0] === "run") {
    const scripts = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts as Record<string, string>;
    return rest[1] === undefined || rest[1] in scripts ? [] : [`${shown}: no package.json script ${rest[1]}`];
  }
  let tool: string | undefined;
  let args: string[] = [];
  let path: string[] = [];
  if (isTool(basename(first))) {
    tool = basename(first);
    args = rest;
    path = await commandPath(tool, args);
  } else if (first === "sh" && rest[0]?.endsWith("install.sh")) {
    [tool, args] = ["install.sh", rest.slice(1)];
  } else if (first === "sh" && rest[0] === "-s" && previous?.some((w) => w.endsWith("install.sh"))) {
    [tool, args] = ["install.sh", rest.slice(rest.indexOf("--") + 1)];
  }
  if (!tool) return [];
  if (!path.length && NEEDS_COMMAND.includes(tool) && args.some((w) => !w.startsWith("-"))) return [`${shown}: names no ${tool} command`];
  const h = await help([tool, ...path]);
  if (h.code !== 0) return [`${shown}: \`${[tool, ...path].join(" ")} --help\` exits ${h.code}`];
  return flagsOf(args)
    .filter((f) => !(f === "--help" || (f === "--version" && !path.length)))
    .filter((f) => !helpLists(h.stdout, f))
    .map((f) => `${shown}: \`${[tool, ...path].join(" ")}\` has no flag ${f}`);
}

describe("doc commands", () => {
  for (const doc of docs()) {
    const cmds = codeBlocks(doc.text, ["sh", "bash", "console"]).flatMap(commands);
    if (!cmds.length) continue;
    test(`${doc.path}: every documented command and flag exists`, async () => {
      const found: string[] = [];
      for (const [i, cmd] of cmds.entries()) found.push(...(await problems(cmd, cmds[i - 1])));
      expect(found).toEqual([]);
    });
  }

  test("the README's quick start is checked: install --simulate and run -p are found", async () => {
    const readme = docs().find((d) => d.path === "README.md")!;
    const cmds = codeBlocks(readme.text, ["sh"]).flatMap(commands);
    const install = cmds.find((c) => c[0]!.endsWith("dstackup") && c.includes("--simulate"))!;
    expect(await commandPath("dstackup", install.slice(1))).toEqual(["install"]);
    const run = cmds.find((c) => c[0]!.endsWith("dstack") && c.includes("run"))!;
    expect(await commandPath("dstack", run.slice(1))).toEqual(["run"]);
  });

  test("the check fails on a flag, a command or a script that does not exist", async () => {
    expect(await problems(["dstackup", "install", "--simulate", "--no-such-flag"], undefined)).toEqual([
      "dstackup install --simulate --no-such-flag: `dstackup install` has no flag --no-such-flag",
    ]);
    expect(await problems(["dstack", "--prefix", "/p", "logs", "web", "-fZ"], undefined)).toEqual([
      "dstack --prefix /p logs web -fZ: `dstack logs` has no flag -Z",
    ]);
    expect(await problems(["sudo", "dstack-auth", "--nope"], undefined)).toEqual([
      "sudo dstack-auth --nope: `dstack-auth serve` has no flag --nope",
    ]);
    expect(await problems(["sh", "-s", "--", "--prefix", "/o", "--nope"], ["curl", "-fsSL", "x/install.sh"])).toEqual([
      "sh -s -- --prefix /o --nope: `install.sh` has no flag --nope",
    ]);
    expect(await problems(["dstack", "pss", "-a"], undefined)).toEqual(["dstack pss -a: names no dstack command"]);
    expect(await problems(["bun", "run", "bench:nope"], undefined)).toEqual(["bun run bench:nope: no package.json script bench:nope"]);
    expect(await problems(["dstack", "run", "app", "--", "serve", "--port", "1"], undefined)).toEqual([]);
  });
});

test("shell words: quotes, comments, pipes and continuations", () => {
  expect(commands(`echo '{"a": 1}' | dstack-auth decide --kms   # a | b\nsudo dstackup x \\\n  --y && z`)).toEqual([
    ["echo", '{"a": 1}'],
    ["dstack-auth", "decide", "--kms"],
    ["sudo", "dstackup", "x", "--y"],
    ["z"],
  ]);
  expect(flagsOf(["-qa", "-n5", "--lines=5", "[--hash", "H]", "--", "--x"])).toEqual(["-q", "-a", "-n", "--lines", "--hash"]);
  expect(helpLists("  -y, --yes    Do not ask", "-y")).toBe(true);
  expect(helpLists("  --image-path=<DIR>", "--image")).toBe(false);
});
