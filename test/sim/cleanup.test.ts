/**
 * The helpers stop what they started even when the test that started it fails, or the run is
 * interrupted (SIGTERM, SIGINT): no dstack-vmm-sim or dstack-auth is left behind (cleanup.ts).
 */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isRunning } from "../helpers/cleanup.ts";
import { ROOT, runBin } from "../helpers/run.ts";

interface Leak {
  prefix: string;
  processes: { pid: number; mark: string }[];
}

function leaky(mode: "fail" | "hang") {
  const out = join(mkdtempSync(join(tmpdir(), "leak-")), "leak.json");
  const proc = Bun.spawn([process.execPath, "test", "./test/helpers/fixtures/leaky.ts"], {
    cwd: ROOT,
    env: { ...process.env, DSTACK_SKIP_BUILD: "1", LEAK_MODE: mode, LEAK_OUT: out },
    stdout: "ignore",
    stderr: "pipe",
  });
  return { proc, out, leak: () => JSON.parse(readFileSync(out, "utf8")) as Leak };
}

describe("what the test helpers start", () => {
  test("a failing test: stopped at the end of the run (the install destroyed, the simulator process ended)", async () => {
    const run = leaky("fail");
    const code = await run.proc.exited;
    const stderr = await new Response(run.proc.stderr).text();
    expect(stderr).toContain("(fail) starts things and never stops them");
    expect(code).toBe(1);
    const leak = run.leak();
    expect(leak.processes.length).toBe(3); // the simulator process, the install's VMM and dstack-auth
    for (const p of leak.processes) expect(isRunning(p)).toBe(false);
    expect(existsSync(join(leak.prefix, "var/lib/dstack/dstackup-state.json"))).toBe(false); // destroy --purge ran
  }, 180_000);

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    test(`a run interrupted by ${signal} mid-test: every process killed at once`, async () => {
      const run = leaky("hang");
      for (let i = 0; i < 1200 && !existsSync(run.out); i++) await Bun.sleep(100);
      const leak = run.leak();
      try {
        for (const p of leak.processes) expect(isRunning(p)).toBe(true);
        run.proc.kill(signal);
        expect(await run.proc.exited).toBe(128 + (signal === "SIGTERM" ? 15 : 2));
        for (let i = 0; i < 50 && leak.processes.some(isRunning); i++) await Bun.sleep(20);
        for (const p of leak.processes) expect(isRunning(p)).toBe(false);
      } finally {
        run.proc.kill("SIGKILL");
        await runBin("dstackup", ["destroy", "--purge", "-y", "-q", "--prefix", leak.prefix]);
      }
    }, 180_000);
  }
});
