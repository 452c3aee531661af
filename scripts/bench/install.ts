#!/usr/bin/env bun
/**
 * dstackup install --simulate (detached daemons, temp prefix), median of N runs:
 * fresh install to ready (KMS CVM booted), no-change re-run, destroy --purge.
 * Targets: ≤ 5 s, ≤ 1.5 s, ≤ 3 s. Baseline in the same run: `dist/dstack --version`.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const DIST = join(import.meta.dir, "..", "..", "dist");
const N = Number(process.env.RUNS ?? 5);

async function timed(argv: string[]): Promise<number> {
  const t = performance.now();
  const p = Bun.spawn(argv, { stdout: "ignore", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
  const err = await new Response(p.stderr).text();
  const code = await p.exited;
  if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}:\n${err}`);
  return performance.now() - t;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fresh: number[] = [];
const rerun: number[] = [];
const destroy: number[] = [];
const version: number[] = [];
for (let i = 0; i < N; i++) {
  const prefix = mkdtempSync(join(tmpdir(), "bench-install-"));
  const base = 22000 + Math.floor(Math.random() * 8000);
  const flags = [
    "--simulate",
    "--service-manager",
    "detached",
    "--prefix",
    prefix,
    "--dashboard-port",
    String(base),
    "--auth-port",
    String(base + 1),
    "--kms-port",
    String(12000 + i),
    "-q",
  ];
  version.push(await timed([join(DIST, "dstack"), "--version"]));
  fresh.push(await timed([join(DIST, "dstackup"), "install", ...flags]));
  rerun.push(await timed([join(DIST, "dstackup"), "install", ...flags]));
  destroy.push(await timed([join(DIST, "dstackup"), "destroy", "--purge", "-y", "-q", "--prefix", prefix]));
}
const row = (name: string, xs: number[], target: number) =>
  `${name.padEnd(22)} median ${median(xs).toFixed(0).padStart(6)} ms  (target ≤ ${target} ms) ${median(xs) <= target ? "ok" : "MISSED"}   runs: ${xs.map((x) => x.toFixed(0)).join(", ")}`;
console.log(`dstackup install --simulate, ${N} runs each (baseline dstack --version median ${median(version).toFixed(1)} ms)`);
console.log(row("fresh install → ready", fresh, 5000));
console.log(row("no-change re-run", rerun, 1500));
console.log(row("destroy --purge", destroy, 3000));
