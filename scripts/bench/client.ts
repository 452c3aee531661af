#!/usr/bin/env bun
/**
 * `dist/dstack ps` against an install (--simulate) holding 100 VMs vs
 * `curl --unix-socket`-equivalent: curl making the same Status call over HTTP
 * to the same VMM, same run (target ≤ 3×); and `dstack run --detach` (target ≤ 150 ms).
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const DIST = join(import.meta.dir, "..", "..", "dist");
const N = Number(process.env.RUNS ?? 30);
const prefix = mkdtempSync(join(tmpdir(), "bench-client-"));
const base = 26000 + Math.floor(Math.random() * 3000);
const sh = (argv: string[]) => {
  const t = performance.now();
  const p = Bun.spawnSync(argv, { env: { ...process.env, NO_COLOR: "1" } });
  const ms = performance.now() - t;
  if (p.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${p.stderr.toString()}`);
  return ms;
};
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
sh([join(DIST, "dstackup"), "install", "--simulate", "--service-manager", "detached", "--no-kms", "--prefix", prefix, "--dashboard-port", String(base), "--auth-port", String(base + 1), "-q"]);
try {
  const run: number[] = [];
  for (let i = 0; i < 100; i++) run.push(sh([join(DIST, "dstack"), "--prefix", prefix, "run", `img${i}`, "-n", `b${i}`, "--detach", "-q"]));
  const token = readFileSync(join(prefix, "etc/dstack/vmm-auth-token"), "utf8").trim();
  const ps: number[] = [];
  const curl: number[] = [];
  for (let i = 0; i < N + 3; i++) {
    const a = sh([join(DIST, "dstack"), "--prefix", prefix, "ps"]);
    const b = sh(["curl", "-s", "-X", "POST", "-H", `authorization: Bearer ${token}`, "-d", "{}", `http://127.0.0.1:${base}/prpc/Status?json`]);
    if (i >= 3) {
      ps.push(a);
      curl.push(b);
    }
  }
  console.log(`dstack ps (100 VMs): median ${med(ps).toFixed(1)} ms; curl, same Status call: median ${med(curl).toFixed(1)} ms; ratio ${(med(ps) / med(curl)).toFixed(2)}× (target ≤ 3×)`);
  console.log(`dstack run --detach: median ${med(run).toFixed(1)} ms over 100 runs (target ≤ 150 ms)`);
} finally {
  sh([join(DIST, "dstackup"), "destroy", "--purge", "-y", "-q", "--prefix", prefix]);
}
