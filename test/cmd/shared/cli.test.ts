import { describe, expect, test } from "bun:test";
import { runTool } from "../../../src/cmd/shared/cli.ts";
import { defineCommand } from "../../../src/cmd/shared/command.ts";
import { LockTimeoutError, NotFoundError, RefusedError, UsageError } from "../../../src/core/errors.ts";
import { captureIo } from "../../helpers/cli.ts";

let last: Record<string, unknown> = {};
let calls: string[] = [];

const runCmd = defineCommand({
  meta: { name: "run", description: "Run an image" },
  args: {
    image: { type: "positional", required: true, description: "image" },
    name: { type: "string", alias: "n", description: "VM name" },
    port: { type: "string", alias: "p", description: "port spec (repeatable)", multiple: true },
    detach: { type: "boolean", alias: "d", description: "return at once" },
    json: { type: "boolean", alias: "j", description: "JSON" },
    "dry-run": { type: "boolean", description: "plan only" },
  },
  run({ args }) {
    calls.push("run");
    last = { ...args };
  },
});

const root = defineCommand({
  meta: { name: "tool", description: "A fake tool" },
  subCommands: {
    run: runCmd,
    ps: () =>
      Promise.resolve(
        defineCommand({
          meta: { name: "ps", alias: ["ls", "apps"], description: "List" },
          args: { all: { type: "boolean", alias: "a" } },
          run({ args }) {
            calls.push("ps");
            last = { ...args };
          },
        }),
      ),
    three: defineCommand({ meta: { name: "three" }, run: () => 3 }),
    refuse: defineCommand({
      meta: { name: "refuse" },
      run() {
        throw new RefusedError("the host is not ready", { hint: "run `tool doctor`" });
      },
    }),
    missing: defineCommand({
      meta: { name: "missing" },
      run() {
        throw new NotFoundError("no VM named x", { hint: "see `tool ps`" });
      },
    }),
    usage: defineCommand({
      meta: { name: "usage" },
      run() {
        throw new UsageError("--memory: bad", { hint: "use 2G" });
      },
    }),
    locked: defineCommand({
      meta: { name: "locked" },
      run() {
        throw new LockTimeoutError("/etc/dstack/auth-allowlist.json.lock", 10000);
      },
    }),
    crash: defineCommand({
      meta: { name: "crash" },
      run() {
        throw new Error("kaboom");
      },
    }),
    allowlist: defineCommand({
      meta: { name: "allowlist", description: "Allowlist" },
      subCommands: {
        ls: defineCommand({ meta: { name: "ls" }, run: () => void calls.push("allowlist ls") }),
        revoke: defineCommand({
          meta: { name: "revoke" },
          args: { appId: { type: "positional", required: true }, hash: { type: "string" } },
          run({ args }) {
            calls.push("allowlist revoke");
            last = { ...args };
          },
        }),
      },
    }),
  },
});

async function cli(...argv: string[]) {
  const io = captureIo();
  calls = [];
  last = {};
  const code = await runTool("tool", root, argv, { io, env: {} });
  return { code, stdout: io.out, stderr: io.err };
}

describe("runTool", () => {
  test("runs a leaf with flags, aliases and = forms", async () => {
    const r = await cli("run", "nginx", "-n", "web", "--detach", "--port=8080:80");
    expect(r.code).toBe(0);
    expect(calls).toEqual(["run"]);
    expect(last.image).toBe("nginx");
    expect(last.name).toBe("web");
    expect(last.detach).toBe(true);
    expect(last.port).toEqual(["8080:80"]);
    expect(r.stdout).toBe("");
  });
  test("repeated flags give every value", async () => {
    const r = await cli("run", "nginx", "-p", "1:1", "--port", "2:2", "-p=3:3");
    expect(r.code).toBe(0);
    expect(last.port).toEqual(["1:1", "2:2", "3:3"]);
  });
  test("a flag that is not repeatable keeps the last value given", async () => {
    const r = await cli("run", "nginx", "-n", "a", "--name", "b", "--name=c");
    expect(r.code).toBe(0);
    expect(last.name).toBe("c");
  });
  test("short flag clusters", async () => {
    expect((await cli("run", "nginx", "-dj")).code).toBe(0);
    expect(last.detach).toBe(true);
    expect(last.json).toBe(true);
    const r = await cli("run", "nginx", "-dx");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown flag -x");
  });
  test("command aliases", async () => {
    expect((await cli("ls", "-a")).code).toBe(0);
    expect(calls).toEqual(["ps"]);
    expect(last.all).toBe(true);
    expect((await cli("apps")).code).toBe(0);
    expect(calls).toEqual(["ps"]);
  });
  test("unknown flag → 2 and did you mean", async () => {
    const r = await cli("run", "nginx", "--nmae", "x");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('tool: unknown flag --nmae for "tool run" — did you mean --name?');
    expect(r.stderr).toContain("tool run --help");
    expect(calls).toEqual([]);
    const r2 = await cli("run", "nginx", "--dry-rn");
    expect(r2.stderr).toContain("did you mean --dry-run?");
    const r3 = await cli("run", "nginx", "--detach=yes", "--zzzzzzzz");
    expect(r3.code).toBe(2);
    expect(r3.stderr).not.toContain("did you mean");
  });
  test("unknown subcommand → 2 and a suggestion, also nested", async () => {
    const r = await cli("rnu", "nginx");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "rnu" for "tool" — did you mean "run"?');
    const r2 = await cli("allowlist", "revok", "x");
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('unknown command "revok" for "tool allowlist" — did you mean "revoke"?');
    expect(calls).toEqual([]);
  });
  test("a flag missing its value → 2", async () => {
    for (const argv of [
      ["run", "nginx", "--name"],
      ["run", "nginx", "-n"],
      ["run", "nginx", "--name", "--detach"],
      ["run", "nginx", "-p", "--", "x"],
    ]) {
      const r = await cli(...argv);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/flag (--name|-n|-p) needs a value/);
      expect(calls).toEqual([]);
    }
  });
  test("a value that starts with - is fine when it is not a flag", async () => {
    expect((await cli("run", "nginx", "--name", "-1")).code).toBe(0);
    expect(last.name).toBe("-1");
    expect((await cli("run", "nginx", "--name", "-")).code).toBe(0);
    expect(last.name).toBe("-");
  });
  test("--help on a subcommand → 0 with its usage; nothing runs", async () => {
    for (const argv of [["run", "--help"], ["run", "-h"], ["run", "nginx", "--help"], ["allowlist", "revoke", "--help"], ["--help"]]) {
      const r = await cli(...argv);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("USAGE");
      expect(calls).toEqual([]);
    }
    expect((await cli("run", "--help")).stdout).toContain("--name");
    expect((await cli("--help")).stdout).toContain("run");
  });
  test("--version", async () => {
    const r = await cli("--version");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^tool \d+\.\d+\.\d+ \(.+\)\n$/);
  });
  test("a run returning 3 exits 3", async () => {
    expect((await cli("three")).code).toBe(3);
  });
  test("DstackError → its code, message and next: hint on stderr", async () => {
    const r = await cli("refuse");
    expect(r.code).toBe(4);
    expect(r.stderr).toBe("tool: the host is not ready\n  next: run `tool doctor`\n");
    expect(r.stdout).toBe("");
    const m = await cli("missing");
    expect(m.code).toBe(3);
    expect(m.stderr).toContain("  next: see `tool ps`");
    const u = await cli("usage");
    expect(u.code).toBe(2);
    expect(u.stderr).toContain("tool: --memory: bad");
    expect(u.stderr).toContain("use 2G");
  });
  test("other errors → 1 without a stack unless --debug", async () => {
    const r = await cli("crash");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("tool: kaboom");
    expect(r.stderr).not.toContain("    at ");
  });
  test("missing command → 2 with the usage; missing positional → 2", async () => {
    const r = await cli();
    expect(r.code).toBe(2);
    expect(r.stderr + r.stdout).toContain("USAGE");
    const a = await cli("allowlist");
    expect(a.code).toBe(2);
    const p = await cli("run");
    expect(p.code).toBe(2);
    expect(p.stderr.toLowerCase()).toContain("image");
    expect(calls).toEqual([]);
  });
  test("after -- nothing is a flag", async () => {
    const r = await cli("run", "nginx", "--", "--not-a-flag", "-x");
    expect(r.code).toBe(0);
    expect(last._).toEqual(["nginx", "--not-a-flag", "-x"]);
  });
  test("nested commands run with their own flags", async () => {
    const r = await cli("allowlist", "revoke", "abc", "--hash", "h1");
    expect(r.code).toBe(0);
    expect(calls).toEqual(["allowlist revoke"]);
    expect(last.appId).toBe("abc");
    expect(last.hash).toBe("h1");
  });
  test("flags before the subcommand reach the leaf (never silently dropped)", async () => {
    expect((await cli("-a", "ps")).code).toBe(0);
    expect(last.all).toBe(true);
    expect((await cli("--name", "web", "run", "nginx")).code).toBe(0);
    expect(last.name).toBe("web");
    expect(last.image).toBe("nginx");
    expect((await cli("-p", "1:1", "run", "-p", "2:2", "nginx")).code).toBe(0);
    expect(last.port).toEqual(["1:1", "2:2"]);
    expect((await cli("allowlist", "--hash", "h9", "revoke", "app")).code).toBe(0);
    expect(last.hash).toBe("h9");
    expect(last.appId).toBe("app");
    const r = await cli("--jsn", "ps");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown flag --jsn for "tool ps"');
    const h = await cli("--help", "run");
    expect(h.code).toBe(0);
    expect(h.stdout).toContain("--name");
  });
  test("running one subcommand does not load its siblings' modules", async () => {
    const loaded: string[] = [];
    const lazy = (name: string, alias?: string[]) => () => {
      loaded.push(name);
      return Promise.resolve(defineCommand({ meta: { name, alias }, run: () => void calls.push(name) }));
    };
    const tree = defineCommand({ meta: { name: "t" }, subCommands: { a: lazy("a"), b: lazy("b", ["bee"]), c: lazy("c") } });
    const io = { io: captureIo(), env: {} };
    calls = [];
    expect(await runTool("t", tree, ["a"], io)).toBe(0);
    expect(loaded).toEqual(["a"]);
    expect(calls).toEqual(["a"]);
    loaded.length = 0;
    expect(await runTool("t", tree, ["bee"], io)).toBe(0); // an alias needs them all
    expect(calls).toEqual(["a", "b"]);
    expect(await runTool("t", tree, ["--version"], io)).toBe(0);
  });
  test("getopt value forms: -n5, -n=5, --name=5, and a cluster ending in a valued flag", async () => {
    for (const argv of [["-nweb"], ["-n=web"], ["--name=web"], ["-dnweb"], ["-dn", "web"]]) {
      expect((await cli("run", "nginx", ...argv)).code).toBe(0);
      expect(last.name).toBe("web");
    }
    expect(last.detach).toBe(true);
  });
  test("a default subcommand takes the flags given with no command; help names it", async () => {
    const got: Record<string, unknown>[] = [];
    const serve = defineCommand({
      meta: { name: "serve", description: "Serve" },
      args: { port: { type: "string", default: "1" } },
      run: ({ args }) => void got.push(args),
    });
    const tree = defineCommand({ meta: { name: "d", description: "D" }, default: "serve", subCommands: { serve } });
    const io = captureIo();
    expect(await runTool("d", tree, ["--port", "9"], { io, env: {} })).toBe(0);
    expect(await runTool("d", tree, [], { io, env: {} })).toBe(0);
    expect(got.map((a) => a.port)).toEqual(["9", "1"]);
    expect(await runTool("d", tree, ["help"], { io, env: {} })).toBe(0);
    expect(io.out).toContain("With no command, d runs `serve`");
    expect(await runTool("d", tree, ["--prot", "9"], { io, env: {} })).toBe(2);
    expect(io.err).toContain('unknown flag --prot for "d serve" — did you mean --port?');
  });
  test("a lock timeout exits 75 and names the lock file", async () => {
    const r = await cli("locked");
    expect(r.code).toBe(75);
    expect(r.stderr).toContain("tool: timed out after 10000 ms waiting for the lock /etc/dstack/auth-allowlist.json.lock");
    expect(r.stderr).toContain("  next: another process holds it");
  });
});
