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
import { DIST, runBin } from "../../helpers/run.ts";
import { simInstallFlags } from "../../helpers/sim-install.ts";
import { treeHash } from "../../helpers/tree.ts";

const prefixes: string[] = [];
function newPrefix(): { prefix: string; flags: string[] } {
  const prefix = mkdtempSync(join(tmpdir(), "dstackup-lock-"));
  prefixes.push(prefix);
  const flags = simInstallFlags(prefix, { runtime: "auto", timeout: 60 });
  return { prefix, flags };
}

afterAll(async () => {
  for (const prefix of prefixes) await runBin("dstackup", ["destroy", "--purge", "-y", "--wait", "--prefix", prefix]);
}, 60_000);

interface Holder {
  pid: number;
  /** Let it go (it ends its command): resolves to its exit code. */
  release(): Promise<number>;
}

/** Hold the layout's lock from another process (util-linux flock(1)) until released. */
async function holdLock(prefix: string): Promise<Holder> {
  const lock = layoutLockPath(resolveLayout({ prefix }));
  // flock's command (and with it the lock) lasts until its stdin closes: no sleep to outlast
  const p = Bun.spawn(["flock", lock, "sh", "-c", "echo held; read _ || true"], { stdin: "pipe", stdout: "pipe", stderr: "ignore" });
  const reader = p.stdout.getReader();
  await reader.read(); // "held": the lock is taken
  reader.releaseLock();
  return {
    pid: p.pid,
    release: async () => {
      p.stdin.end();
      return await p.exited;
    },
  };
}

/** Run dist/dstackup with args; `until(text)` resolves once its stderr contains text (or it ended). */
function spawnDstackup(args: string[]): { until(text: string): Promise<void>; done: Promise<{ code: number; stderr: string }> } {
  const proc = Bun.spawn([join(DIST, "dstackup"), ...args], {
    env: { ...process.env, NO_COLOR: "1" },
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  let stderr = "";
  const waiters: { text: string; resolve: () => void }[] = [];
  const read = (async () => {
    const dec = new TextDecoder();
    for await (const chunk of proc.stderr) {
      stderr += dec.decode(chunk, { stream: true });
      for (const w of waiters.filter((x) => stderr.includes(x.text))) w.resolve();
    }
  })();
  return {
    // or once it ended without saying it (the assertions then show what it said)
    until: (text) =>
      stderr.includes(text)
        ? Promise.resolve()
        : Promise.race([proc.exited.then(() => undefined), new Promise<void>((resolve) => void waiters.push({ text, resolve }))]),
    done: (async () => {
      const code = await proc.exited;
      await read;
      return { code, stderr };
    })(),
  };
}

describe("the install lock", () => {
  test("while another process holds it, install and destroy exit 75 naming it, and change nothing", async () => {
    const s = newPrefix();
    const before = treeHash(s.prefix);
    const holder = await holdLock(s.prefix);
    try {
      const timed = async (args: string[]) => {
        const t0 = performance.now();
        const r = await runBin("dstackup", args);
        return { ...r, ms: performance.now() - t0 };
      };
      // both wait out the same holder at once
      const [r, d] = await Promise.all([timed(["install", ...s.flags]), timed(["destroy", "--purge", "-y", "--prefix", s.prefix])]);
      expect(r.code).toBe(75);
      expect(r.ms).toBeGreaterThan(2500); // it waited a little first
      expect(r.stderr).toContain("another dstackup command is changing the install at");
      expect(r.stderr).toContain(`pid ${holder.pid} (flock `);
      expect(r.stderr).toContain("--wait");
      expect(d.code).toBe(75);
      expect(treeHash(s.prefix)).toBe(before);
    } finally {
      await holder.release();
    }
  }, 60_000);

  test("--wait waits for the holder, then installs", async () => {
    const s = newPrefix();
    const holder = await holdLock(s.prefix);
    const install = spawnDstackup(["install", ...s.flags, "--wait"]);
    await install.until("waiting for the install lock"); // it is waiting: now let the holder finish
    expect(await holder.release()).toBe(0); // it ran its course: we did not take the lock from it
    const r = await install.done;
    expect(r.stderr).toContain(`waiting for the install lock (held by pid ${holder.pid}`);
    expect(r.code).toBe(0);
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
