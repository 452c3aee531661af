#!/usr/bin/env bun
/**
 * bun run bench:startup — startup time of the compiled binary vs a compiled
 * hello-world built in this run with the same flags as scripts/build.ts.
 *
 * Runs `dist/dstack --version` and the hello-world alternately (after a
 * warm-up) and prints both medians, the ratio, and whether the target holds:
 * dstack --version within 4× the hello-world and under 20 ms median.
 *
 *   bun scripts/bench/startup.ts [--runs N] [--bin PATH] [--json]
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUILD_FLAGS } from "../build.ts";

const root = join(import.meta.dir, "..", "..");
const argv = process.argv.slice(2);
const opt = (name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const RUNS = Math.max(30, Number(opt("--runs") ?? 50));
const WARMUP = 5;
const bin = opt("--bin") ?? join(root, "dist", "dstack");
const json = argv.includes("--json");

function buildHello(dir: string): string {
  const src = join(dir, "hello.ts");
  writeFileSync(src, 'process.stdout.write("hello 0.0.0\\n");\n');
  const out = join(dir, "hello");
  const r = Bun.spawnSync([process.execPath, "build", ...BUILD_FLAGS, "--outfile", out, src], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`building the hello-world failed: ${r.stderr.toString()}`);
  return out;
}

function timeOnce(cmd: string[]): number {
  const t0 = performance.now();
  const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
  const ms = performance.now() - t0;
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")} exited ${r.exitCode}: ${r.stderr.toString()}`);
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function main(): Promise<number> {
  if (!existsSync(bin)) {
    console.error(`bench:startup: ${bin} does not exist; run \`bun run build\` first`);
    return 1;
  }
  const dir = mkdtempSync(join(tmpdir(), "dstack-bench-startup-"));
  try {
    const hello = buildHello(dir);
    const a = [bin, "--version"];
    const b = [hello];
    for (let i = 0; i < WARMUP; i++) {
      timeOnce(a);
      timeOnce(b);
    }
    const ta: number[] = [];
    const tb: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      // alternate, and swap the order each round so neither always runs first
      if (i % 2) {
        ta.push(timeOnce(a));
        tb.push(timeOnce(b));
      } else {
        tb.push(timeOnce(b));
        ta.push(timeOnce(a));
      }
    }
    const ma = median(ta);
    const mb = median(tb);
    const ratio = ma / mb;
    const ok = ratio <= 4 && ma < 20;
    if (json) {
      console.log(JSON.stringify({ runs: RUNS, dstackVersionMs: ma, helloWorldMs: mb, ratio, target: { maxRatio: 4, maxMs: 20 }, ok }));
    } else {
      console.log(`runs: ${RUNS} each (after ${WARMUP} warm-up), alternating`);
      console.log(`dstack --version  median ${ma.toFixed(2)} ms  (min ${Math.min(...ta).toFixed(2)}, max ${Math.max(...ta).toFixed(2)})`);
      console.log(`hello-world       median ${mb.toFixed(2)} ms  (min ${Math.min(...tb).toFixed(2)}, max ${Math.max(...tb).toFixed(2)})`);
      console.log(`ratio             ${ratio.toFixed(2)}x  (target ≤ 4x and < 20 ms: ${ok ? "met" : "MISSED"})`);
    }
    return ok ? 0 : 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) process.exit(await main());
