/**
 * The install lock (issue 13 item 2): install, destroy and image rm hold one exclusive lock on the
 * layout; a second one names the holder and exits 75 after a short wait, or waits with --wait.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveLayout } from "../../../src/core/layout.ts";
import { layoutLockPath } from "../../../src/host/install/lock.ts";
import { runBin } from "../../helpers/run.ts";
import { treeHash } from "../../helpers/tree.ts";

const prefixes: string[] = [];
function newPrefix(): { prefix: string; flags: string[] } {
  const prefix = mkdtempSync(join(tmpdir(), "dstackup-lock-"));
  prefixes.push(prefix);
  const base = 21000 + Math.floor(Math.random() * 9000);
  const kms = 11000 + Math.floor(Math.random() * 8000);
  const flags = ["--simulate", "--service-manager", "detached", "--prefix", prefix, "--dashboard-port", String(base)];
  flags.push("--auth-port", String(base + 1), "--kms-port", String(kms), "--timeout", "60");
  return { prefix, flags };
}

afterAll(async () => {
  for (const prefix of prefixes) await runBin("dstackup", ["destroy", "--purge", "-y", "--wait", "--prefix", prefix]);
}, 60_000);

/** Hold the layout's lock from another process (util-linux flock(1)) for `seconds`. */
async function holdLock(prefix: string, seconds: number): Promise<Bun.Subprocess> {
  const lock = layoutLockPath(resolveLayout({ prefix }));
  const p = Bun.spawn(["flock", lock, "sh", "-c", `echo held; sleep ${seconds}`], { stdout: "pipe", stderr: "ignore" });
  const reader = p.stdout.getReader();
  await reader.read(); // "held": the lock is taken
  reader.releaseLock();
  return p;
}

describe("the install lock", () => {
  test("while another process holds it, install and destroy exit 75 naming it, and change nothing", async () => {
    const s = newPrefix();
    const before = treeHash(s.prefix);
    const holder = await holdLock(s.prefix, 30);
    try {
      const t0 = performance.now();
      const r = await runBin("dstackup", ["install", ...s.flags]);
      expect(r.code).toBe(75);
      expect(performance.now() - t0).toBeGreaterThan(2500); // it waited a little first
      expect(r.stderr).toContain("another dstackup command is changing the install at");
      expect(r.stderr).toContain(`pid ${holder.pid} (flock `);
      expect(r.stderr).toContain("--wait");
      const d = await runBin("dstackup", ["destroy", "--purge", "-y", "--prefix", s.prefix]);
      expect(d.code).toBe(75);
      expect(treeHash(s.prefix)).toBe(before);
    } finally {
      holder.kill();
    }
  }, 60_000);

  test("--wait waits for the holder, then installs", async () => {
    const s = newPrefix();
    const holder = await holdLock(s.prefix, 4);
    const r = await runBin("dstackup", ["install", ...s.flags, "--wait"]);
    expect(r.stderr).toContain(`waiting for the install lock (held by pid ${holder.pid}`);
    expect(r.code).toBe(0);
    expect(await holder.exited).toBe(0); // it ran its course: we did not take the lock from it
  }, 60_000);

  test("three installs at once into one new prefix: each installs or says who is installing; purge returns to the baseline", async () => {
    const s = newPrefix();
    const before = treeHash(s.prefix);
    const runs = await Promise.all([0, 1, 2].map(() => runBin("dstackup", ["install", ...s.flags])));
    for (const r of runs) {
      expect([0, 75]).toContain(r.code);
      if (r.code === 75) expect(r.stderr).toContain("another dstackup command is changing the install");
    }
    expect(runs.some((r) => r.code === 0)).toBe(true);
    const st = await runBin("dstackup", ["status", "--prefix", s.prefix]);
    expect(st.code).toBe(0); // one token, one set of daemons
    const d = await runBin("dstackup", ["destroy", "--purge", "-y", "--prefix", s.prefix]);
    expect(d.code).toBe(0);
    expect(treeHash(s.prefix)).toBe(before);
  }, 120_000);
});
