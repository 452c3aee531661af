import { describe, expect, test } from "bun:test";
import pkg from "../package.json" with { type: "json" };
import { runBin } from "./helpers/run.ts";

const names = ["dstack", "dstackup", "dstack-auth"];

describe("multi-call binary", () => {
  for (const name of names) {
    test(`${name} --version names itself, the version and the commit`, async () => {
      const r = await runBin(name, ["--version"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^${name} ${pkg.version.replace(/\./g, "\\.")} \\(([0-9a-f]{12}(-dirty)?|unknown)\\)\\n$`));
    });

    test(`${name} --help prints usage on stdout and exits 0`, async () => {
      const r = await runBin(name, ["--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`USAGE ${name}`);
      expect(r.stderr).toBe("");
    });

    test(`${name} with an unknown command exits 2 and suggests`, async () => {
      const r = await runBin(name, ["definitely-not-a-command"]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('unknown command "definitely-not-a-command"');
    });
  }

  test("dstack-auth --help lists its commands and names the default; serve --help has serve's flags", async () => {
    const top = await runBin("dstack-auth", ["--help"]);
    expect(top.code).toBe(0);
    for (const c of ["serve", "check", "decide"]) expect(top.stdout).toMatch(new RegExp(`^\\s+${c}\\s`, "m"));
    expect(top.stdout).toContain("With no command, dstack-auth runs `serve`");
    expect((await runBin("dstack-auth", ["help"])).stdout).toBe(top.stdout); // `help` is `--help`
    const helpRun = await runBin("dstack", ["help", "run"]);
    expect(helpRun.code).toBe(0);
    expect(helpRun.stdout).toContain("USAGE dstack run");
    const serve = await runBin("dstack-auth", ["serve", "--help"]);
    expect(serve.code).toBe(0);
    expect(serve.stdout).toContain("--port");
    expect(serve.stdout).not.toContain("With no command");
  });

  test("stdout is drained before the exit: 650 KB of --json through a pipe arrive whole", async () => {
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const apps: Record<string, { composeHashes: string[] }> = {};
    for (let i = 0; i < 3000; i++) apps[i.toString(16).padStart(40, "0")] = { composeHashes: [i.toString(16).padStart(64, "0")] };
    const file = join(mkdtempSync(join(tmpdir(), "big-allow-")), "allow.json");
    writeFileSync(file, JSON.stringify({ apps, osImages: [], kms: { mrAggregated: [] } }));
    const { DIST } = await import("./helpers/run.ts");
    for (const delayMs of [0, 200]) {
      // a reader that comes late: the pipe fills, the rest waits in the binary's buffer
      const p = Bun.spawn([join(DIST, "dstack-auth"), "check", "--json", "--config", file], { stdout: "pipe", stderr: "pipe" });
      await Bun.sleep(delayMs);
      const [text, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
      expect(code).toBe(0);
      expect(text.length).toBeGreaterThan(600_000);
      expect(Object.keys(JSON.parse(text).apps)).toHaveLength(3000);
    }
  });

  test("run under a foreign name, it says which names it answers to", async () => {
    const { mkdtempSync, symlinkSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { spawnCapture, DIST } = await import("./helpers/run.ts");
    const dir = mkdtempSync(join(tmpdir(), "dstack-name-"));
    symlinkSync(join(DIST, "dstack"), join(dir, "dstak"));
    const r = await spawnCapture([join(dir, "dstak"), "--version"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("run as one of dstack, dstackup, dstack-auth");
    const viaFirst = await spawnCapture([join(dir, "dstak"), "dstackup", "--version"]);
    expect(viaFirst.code).toBe(0);
    expect(viaFirst.stdout).toStartWith("dstackup ");
  });
});
