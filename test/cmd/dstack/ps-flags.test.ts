/**
 * `dstack ps` flags against a simulated install, run in-process (the Io says whether stdout is a
 * terminal): long cells cut with … on a terminal (--no-trunc, a pipe and --json whole), -n/--last N
 * (the newest N, whatever their status), -w/--watch (redrawn every 2 s until Ctrl-C; off a
 * terminal the last table at Ctrl-C, as dstackai's Rich Live; not with --json).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { captureIo, runCli } from "../../helpers/cli.ts";
import { type SimInstall, simInstall } from "../../helpers/sim-install.ts";

let sim: SimInstall;
const dstack = (args: string[], o: { tty?: boolean; io?: ReturnType<typeof captureIo> } = {}) =>
  runCli("dstack", ["--prefix", sim.prefix, ...args], o);
const LONG = `a-very-long-name-${"x".repeat(60)}-end`;
type Vm = { id: string; name: string; status: string };
const vms = async () => JSON.parse((await dstack(["ps", "-a", "--json"])).stdout) as Vm[];

beforeAll(async () => {
  sim = await simInstall("dstack-ps-flags");
  for (const name of [LONG, "second", "third"]) expect((await dstack(["run", "nginx:1.27", "-n", name, "-d", "-q"])).code).toBe(0);
  expect((await dstack(["stop", "second", "--force"])).code).toBe(0);
}, 120_000);

afterAll(async () => {
  await sim.destroy();
});

const rowOf = (table: string, start: string) => table.split("\n").find((l) => l.startsWith(start));

describe("dstack ps: long cells", () => {
  test("a terminal cuts a long name with … (docker's Ellipsis) so rows stay bounded; ids short", async () => {
    const r = await dstack(["ps"], { tty: true });
    expect(r.code).toBe(0);
    const row = rowOf(r.stdout, "a-very-long-name-")!;
    expect(row).toStartWith(`${LONG.slice(0, 29)}…   `);
    expect(r.stdout).not.toContain(LONG);
    const id = (await vms()).find((v) => v.name === LONG)!.id;
    expect(row).toContain(`   ${id.slice(0, 8)}   `);
    expect(row).not.toContain(id);
  });

  test("--no-trunc on a terminal: the whole name and the whole VM id", async () => {
    const r = await dstack(["ps", "--no-trunc"], { tty: true });
    expect(r.code).toBe(0);
    const id = (await vms()).find((v) => v.name === LONG)!.id;
    expect(rowOf(r.stdout, LONG)).toContain(`   ${id}   `);
  });

  test("-v (dstackai's run columns): a long run name is cut on a terminal, whole otherwise", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dstack-ps-flags-"));
    const run = `a-long-run-${"r".repeat(29)}`; // dstackai allows 41 characters
    writeFileSync(join(dir, "t.dstack.yml"), `type: task\nname: ${run}\nimage: alpine\ncommands: [sleep 600]\n`);
    expect((await dstack(["apply", "-f", join(dir, "t.dstack.yml"), "-y", "-d"])).code).toBe(0);
    const tty = await dstack(["ps", "-v"], { tty: true });
    expect(tty.code).toBe(0);
    expect(rowOf(tty.stdout, "a-long-run-")).toMatch(new RegExp(`^${run.slice(0, 29)}… +vmm `));
    expect(rowOf((await dstack(["ps", "-v"])).stdout, "a-long-run-")).toMatch(new RegExp(`^${run} +vmm `));
    expect(rowOf((await dstack(["ps", "-v", "--no-trunc"], { tty: true })).stdout, "a-long-run-")).toMatch(new RegExp(`^${run} +vmm `));
    expect((await dstack(["rm", "-f", run])).code).toBe(0);
    while ((await vms()).some((v) => v.name === run)) await Bun.sleep(100); // RemoveVm finishes in the background
  });

  test("not a terminal, and --json anywhere: whole", async () => {
    expect(rowOf((await dstack(["ps"])).stdout, `${LONG}   `)).toBeDefined();
    const j = await dstack(["ps", "--json"], { tty: true });
    expect(j.code).toBe(0);
    expect((JSON.parse(j.stdout) as Vm[]).map((v) => v.name)).toContain(LONG);
  });
});

describe("dstack ps -n/--last", () => {
  test("the last N created, whatever their status (implies -a), in creation order", async () => {
    const r = await dstack(["ps", "-n", "2"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^second\s.*\sstopped\s/);
    expect(lines[2]).toMatch(/^third\s.*\srunning\s/);
    expect((JSON.parse((await dstack(["ps", "--last=2", "--json"])).stdout) as Vm[]).map((v) => v.name)).toEqual(["second", "third"]);
    const third = (await vms()).find((v) => v.name === "third")!.id;
    expect((await dstack(["ps", "-q", "-n1"])).stdout).toBe(`${third}\n`);
    expect((await dstack(["ps", "-n", "100", "--json"])).stdout).toBe((await dstack(["ps", "-a", "--json"])).stdout);
  });

  test("N must be a number of 1 or more: exit 2", async () => {
    for (const bad of ["0", "x", "-1"]) {
      const r = await dstack(["ps", `--last=${bad}`]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("-n/--last");
    }
  });
});

describe("dstack ps -w/--watch", () => {
  const frames = (out: string) => out.split("\x1b[H").slice(1);
  const until = async (what: () => boolean, ms: number) => {
    for (const end = Date.now() + ms; !what() && Date.now() < end; ) await Bun.sleep(50);
    return what();
  };

  test("on a terminal: the table redrawn in place every 2s, with what changed, until Ctrl-C (exit 0)", async () => {
    const io = captureIo({ tty: true });
    const watching = dstack(["ps", "-w"], { io });
    expect(await until(() => frames(io.out).length >= 1, 10_000)).toBe(true);
    expect(io.out).toStartWith("\x1b[?25l\x1b[2J\x1b[H");
    expect(frames(io.out)[0]).not.toContain("fourth");
    expect((await dstack(["run", "nginx:1.27", "-n", "fourth", "-d", "-q"])).code).toBe(0);
    expect(await until(() => frames(io.out).some((f) => /\nfourth\s+[0-9a-f]{8}\s/.test(f)), 10_000)).toBe(true);
    io.signal("SIGINT");
    const r = await watching;
    expect(r.code).toBe(0);
    expect(r.stdout).toEndWith("\x1b[J\x1b[?25h");
    const last = frames(r.stdout).at(-1)!;
    expect(last).toStartWith("NAME "); // each frame starts with the header
    expect(last.split("\n").filter((l) => l.startsWith("NAME")).length).toBe(1);
  }, 30_000);

  test("not a terminal: nothing while it runs, the last table once at Ctrl-C (as dstackai's Rich Live); exit 0", async () => {
    const io = captureIo();
    const watching = dstack(["ps", "-w"], { io });
    await Bun.sleep(2500);
    expect(io.out).toBe("");
    io.signal("SIGINT");
    const r = await watching;
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("\x1b");
    expect(r.stdout).toMatch(/^NAME\s+ID\s+APP ID\s+STATUS\s+PORTS\s+UPTIME\s+IMAGE\n/);
    expect(r.stdout.match(/^NAME /gm)).toHaveLength(1);
    expect(r.stdout).toMatch(/\nthird\s/);
  }, 30_000);

  test("with --json: refused as dstackai does, exit 2", async () => {
    const r = await dstack(["ps", "-w", "--json"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("JSON output is not supported together with --watch");
  });
});
