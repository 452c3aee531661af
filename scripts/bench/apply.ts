#!/usr/bin/env bun
/**
 * `dstack apply --dry-run` of a task (parse, plan, the compose and its hash, the host's facts
 * and offers, the plan table) against dstack-vmm-sim on a unix socket: median over RUNS runs
 * (default 30), target ≤ 100 ms; beside it `dist/dstack ps` on the same simulator (one Status
 * round trip) as the same-run baseline, and the ratio. A user of dstackai waits seconds for its
 * server's plan.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeSimConfig } from "../../test/helpers/sim.ts";

const DIST = join(import.meta.dir, "..", "..", "dist");
const N = Number(process.env.RUNS ?? 30);
const { dir, vmmToml } = writeSimConfig({});
const sock = join(dir, "vmm.sock");
const work = mkdtempSync(join(tmpdir(), "bench-apply-"));
writeFileSync(
  join(work, ".dstack.yml"),
  "type: task\nname: train\npython: 3.12\nenv:\n  - MODE=fast\ncommands:\n  - pip install -r requirements.txt\n  - python train.py\nports: [6006]\nresources:\n  cpu: 4..\n  memory: 16GB..\nmax_duration: 2h\n",
);
const env = { ...process.env, NO_COLOR: "1", DSTACK_HOST: `unix:${sock}` };
const time = (argv: string[]) => {
  const t = performance.now();
  const p = Bun.spawnSync(argv, { env, cwd: work });
  const ms = performance.now() - t;
  if (p.exitCode !== 0) throw new Error(`${argv.join(" ")}: exit ${p.exitCode}: ${p.stderr.toString()}`);
  return ms;
};
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const sim = Bun.spawn([join(DIST, "dstack-vmm-sim"), "-c", vmmToml], { stdout: "ignore", stderr: "ignore" });
try {
  for (let i = 0; i < 200; i++) {
    const r = await fetch("http://localhost/prpc/Version?json", { method: "POST", body: "{}", unix: sock } as RequestInit).catch(
      () => undefined,
    );
    if (r?.status === 200) break;
    await Bun.sleep(25);
  }
  const dstack = join(DIST, "dstack");
  time([dstack, "apply", "--dry-run"]); // warm the page cache
  const apply: number[] = [];
  const ps: number[] = [];
  for (let i = 0; i < N; i++) {
    apply.push(time([dstack, "apply", "--dry-run"]));
    ps.push(time([dstack, "ps"]));
  }
  const a = med(apply);
  const p = med(ps);
  console.log(`dstack apply --dry-run (task): median ${a.toFixed(1)} ms over ${N} runs (target ≤ 100 ms) ${a <= 100 ? "OK" : "SLOW"}`);
  console.log(`dstack ps (baseline, one Status): median ${p.toFixed(1)} ms; ratio ${(a / p).toFixed(2)}×`);
} finally {
  sim.kill();
  await sim.exited;
  rmSync(dir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
}
