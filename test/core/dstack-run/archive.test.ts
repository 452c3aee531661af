import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { archiveRoot, buildFilesArchive } from "../../../src/core/dstack-run/files/files-archive.ts";
import { tarGz } from "../../../src/core/dstack-run/files/tar.ts";
import { startScript } from "../../../src/core/dstack-run/start-script.ts";

const enc = new TextEncoder();

describe("the deterministic tar.gz", () => {
  test("system tar reads it back: modes, long names (pax), symlinks", () => {
    const dir = mkdtempSync(join(tmpdir(), "dstack-tar-"));
    try {
      const long = `d/${"x".repeat(150)}.txt`;
      const gz = tarGz([
        { path: "d", mode: 0o755, kind: "dir" },
        { path: "a.sh", mode: 0o755, kind: "file", data: enc.encode("echo a\n") },
        { path: long, mode: 0o600, kind: "file", data: enc.encode("long") },
        { path: "l", mode: 0o777, kind: "symlink", target: "a.sh" },
      ]);
      Bun.write(join(dir, "t.tgz"), gz);
      const r = Bun.spawnSync(["tar", "-xzf", "t.tgz"], { cwd: dir });
      expect(r.exitCode).toBe(0);
      expect(readFileSync(join(dir, "a.sh"), "utf8")).toBe("echo a\n");
      expect(statSync(join(dir, "a.sh")).mode & 0o777).toBe(0o755);
      expect(readFileSync(join(dir, long), "utf8")).toBe("long");
      expect(statSync(join(dir, long)).mode & 0o777).toBe(0o600);
      expect(readlinkSync(join(dir, "l"))).toBe("a.sh");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  test("the same entries in any order give the same bytes", () => {
    const a = { path: "a", mode: 0o644, kind: "file" as const, data: enc.encode("1") };
    const b = { path: "b", mode: 0o644, kind: "file" as const, data: enc.encode("2") };
    expect(Buffer.from(tarGz([a, b])).equals(Buffer.from(tarGz([b, a])))).toBe(true);
  });
});

describe("where files land", () => {
  test("relative to the working dir, ~ to the home, absolute as is", () => {
    expect(archiveRoot("examples", undefined)).toBe("rel/examples");
    expect(archiveRoot(".", undefined)).toBe("rel");
    expect(archiveRoot("examples", "/dstack/run")).toBe("abs/dstack/run/examples");
    expect(archiveRoot("../examples", "/dstack/run")).toBe("abs/dstack/examples");
    expect(archiveRoot("~/.cache/huggingface/token", undefined)).toBe("home/.cache/huggingface/token");
    expect(archiveRoot("/etc/app.conf", undefined)).toBe("abs/etc/app.conf");
  });
  test("escaping an unknown working dir, ~user and / are refused", () => {
    expect(() => archiveRoot("../x", undefined)).toThrow("leaves the working dir");
    expect(() => archiveRoot("~bob/x", undefined)).toThrow("~user paths are not supported");
    expect(() => archiveRoot("/", undefined)).toThrow("cannot replace the container's root");
  });
  test("no files, no archive", () => expect(buildFilesArchive([], undefined)).toEqual({ base64: "", bytes: 0, files: 0 }));
});

describe("the start script (run with the system sh)", () => {
  const run = (max: string, ...argv: string[]) => Bun.spawnSync(["sh", "-c", startScript({ files: false }), "dstack-run", max, ...argv]);
  test("the exit line carries the command's exit code", () => {
    const r = run("", "sh", "-c", "echo out; exit 3");
    expect(r.exitCode).toBe(3);
    expect(r.stdout.toString()).toBe("out\n[dstack] exited (3)\n");
  });
  test("max_duration stops the command", () => {
    const t0 = performance.now();
    const r = run("1", "sh", "-c", "exec sleep 20");
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(r.stdout.toString()).toBe("[dstack] max_duration exceeded\n[dstack] exited (143)\n");
  });
  test("a stop (SIGTERM) reaches the command, which may exit its own way; the script says it was stopped", async () => {
    const cmd = "trap 'echo bye; exit 7' TERM; echo ready; sleep 20 >/dev/null & wait";
    const p = Bun.spawn(["sh", "-c", startScript({ files: false }), "dstack-run", "", "sh", "-c", cmd], { stdout: "pipe" });
    const reader = p.stdout.getReader();
    let out = "";
    while (!out.includes("ready\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      out += new TextDecoder().decode(value);
    }
    p.kill("SIGTERM");
    const code = await p.exited;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      out += new TextDecoder().decode(value);
    }
    expect({ code, out }).toEqual({ code: 7, out: "ready\nbye\n[dstack] stopped\n[dstack] exited (7)\n" });
  });
});
