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
