/**
 * Startup budget guard (dstack --version < 20 ms): answering --version must not
 * load heavy modules. Runs each tool from source with a preload that records
 * every module loaded.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tools } from "../../../src/tools.ts";

const ROOT = join(import.meta.dir, "..", "..", "..");
const HEAVY = /node_modules\/(yaml|valibot|smol-toml|ssh2|consola|@phala|@noble)\//;

function trace(args: string[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), "dstack-trace-"));
  const out = join(dir, "trace.txt");
  try {
    const r = Bun.spawnSync(
      [process.execPath, "--preload", join(import.meta.dir, "fixtures", "trace-preload.ts"), join(ROOT, "src/main.ts"), ...args],
      { cwd: ROOT, env: { ...process.env, TRACE_OUT: out }, stdout: "pipe", stderr: "pipe" },
    );
    expect(r.exitCode).toBe(0);
    return readFileSync(out, "utf8").trim().split("\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("startup imports", () => {
  for (const tool of Object.keys(tools)) {
    test(`${tool} --version loads no heavy module`, () => {
      const loaded = trace([tool, "--version"]);
      expect(loaded.some((p) => p.endsWith("src/main.ts"))).toBe(true); // the trace works
      expect(loaded.filter((p) => HEAVY.test(p))).toEqual([]);
    });
  }
});
