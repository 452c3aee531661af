/**
 * `--help` says what the flags do, and a flag a command would ignore is not taken: ps's -q and
 * -v (ids; dstackai's run columns), run/deploy's -q and -d, --gpu's forms; logs (the log as it
 * is), inspect (always JSON) and context use/rm/show take no -j; prune -y --json says
 * dryRun: false when it had nothing to withdraw; an argument a command does not take is exit 2.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../helpers/cli.ts";
import { type SimInstall, simInstall } from "../../helpers/sim-install.ts";

const flagLine = (help: string, flag: string) =>
  help
    .split("\n")
    .find((l) => l.includes(flag))
    ?.trim() ?? "";

describe("--help is true to what the flags do", () => {
  test("ps: -q prints ids, -v dstackai's run columns", async () => {
    const h = await runCli("dstack", ["ps", "--help"]);
    expect(h.code).toBe(0);
    expect(flagLine(h.stdout, "--quiet")).toBe("-q, --quiet    Only print full VM ids (docker's -q); only errors on stderr");
    expect(flagLine(h.stdout, "--verbose")).toBe("-v, --verbose    The .dstack.yml runs, in dstackai's run columns (NAME BACKEND … ERROR)");
  });

  test.each(["run", "deploy"])("%s: -q prints the VM id, -d returns once started, --gpu names every form", async (verb) => {
    const h = await runCli("dstack", [verb, "--help"]);
    expect(flagLine(h.stdout, "--quiet")).toBe("-q, --quiet    Print only the VM id on stdout (as docker run -d); only errors on stderr");
    expect(flagLine(h.stdout, "--detach")).toBe("-d, --detach    Return once started; do not wait for the boot");
    expect(flagLine(h.stdout, "--gpu")).toContain("all, none, a count, MODEL[:COUNT] (e.g. H100:2) or PCI slots (18:00.0,2a:00.0)");
  });

  test.each([
    ["logs", ["logs", "x"]],
    ["inspect", ["inspect", "x"]],
    ["context use", ["context", "use", "default"]],
    ["context rm", ["context", "rm", "x"]],
    ["context show", ["context", "show"]],
  ] as const)("dstack %s --json: not a flag of a command that prints no JSON (exit 2)", async (verb, argv) => {
    const r = await runCli("dstack", [...argv, "--json"], { env: { XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), "help-truth-")) } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`unknown flag --json for "dstack ${verb}"`);
    const h = await runCli("dstack", [...verb.split(" "), "--help"]);
    expect(h.code).toBe(0);
    expect(h.stdout).not.toContain("--json");
  });
});

describe("an argument a command does not take is refused, not ignored", () => {
  test.each([
    ["dstack", ["ps", "nope"], `"dstack ps" takes no arguments: unexpected "nope"`],
    ["dstack", ["logs", "web", "extra"], `"dstack logs" takes 1 argument: unexpected "extra"`],
    ["dstack", ["run", "nginx", "serve"], `"dstack run" takes 1 argument: unexpected "serve"`],
    ["dstack", ["apply", "x.yml"], `"dstack apply" takes no arguments: unexpected "x.yml"`],
    ["dstackup", ["status", "extra"], `"dstackup status" takes no arguments: unexpected "extra"`],
  ] as const)("%s %p: exit 2", async (tool, argv, message) => {
    const r = await runCli(tool, [...argv]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe("");
  });
});

describe("allowlist prune -y --json with nothing to withdraw", () => {
  let s: SimInstall | undefined;
  beforeAll(async () => {
    s = await simInstall("dstack-help-truth", { inProcess: true });
  }, 60_000);
  afterAll(async () => {
    await s?.destroy();
  });

  test("dryRun is false: it was not a dry run (--dry-run says true)", async () => {
    const r = await s!.dstack(["allowlist", "prune", "-y", "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ dryRun: false, withdrawn: [] });
    const d = await s!.dstack(["allowlist", "prune", "--dry-run", "--json"]);
    expect(JSON.parse(d.stdout)).toMatchObject({ dryRun: true, withdrawn: [] });
  });
});
