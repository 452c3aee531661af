#!/usr/bin/env bun
/**
 * Client CLI bench, one run, same machine:
 *  - `dist/dstack ps` against dstack-vmm-sim (unix socket, token auth) holding 100 VMs, vs
 *    `curl --unix-socket` making the same Status call (`{"brief":false}`) — ratio, target ≤ 3×;
 *  - `dist/dstack run --detach` (manifest, allowlist registration under its lock, CreateVm),
 *    median over 100 runs, target ≤ 150 ms.
 * The simulator boots VMs against a real dstack-auth reading the allowlist the client writes.
 * RUNS=N sets the ps/curl sample count (default 30).
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeSimConfig } from "../../test/helpers/sim.ts";

const DIST = join(import.meta.dir, "..", "..", "dist");
const N = Number(process.env.RUNS ?? 30);
const token = crypto.randomUUID().replaceAll("-", "");
const authPort = 27000 + Math.floor(Math.random() * 3000);
const { dir, vmmToml } = writeSimConfig({ token, authUrl: `http://127.0.0.1:${authPort}` });
const sock = join(dir, "vmm.sock");
const allowlist = join(dir, "auth-allowlist.json");
writeFileSync(allowlist, JSON.stringify({ osImages: [], kms: { mrAggregated: [], devices: [], allowAnyDevice: true }, apps: {} }));

const sh = (argv: string[]) => {
  const t = performance.now();
  const p = Bun.spawnSync(argv, { env: { ...process.env, NO_COLOR: "1" } });
  const ms = performance.now() - t;
  if (p.exitCode !== 0) throw new Error(`${argv.join(" ")}: exit ${p.exitCode}: ${p.stderr.toString()}`);
  return ms;
};
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const waitFor = async (ok: () => boolean, what: string) => {
  for (let i = 0; i < 200 && !ok(); i++) await Bun.sleep(25);
  if (!ok()) throw new Error(`${what} did not come up`);
};

const auth = Bun.spawn([join(DIST, "dstack-auth"), "--config", allowlist, "--address", "127.0.0.1", "--port", String(authPort)], {
  stdout: "ignore",
  stderr: "ignore",
});
const sim = Bun.spawn([join(DIST, "dstack-vmm-sim"), "-c", vmmToml], { stdout: "ignore", stderr: "ignore" });
try {
  await waitFor(() => Bun.spawnSync(["curl", "-sf", `http://127.0.0.1:${authPort}/`]).exitCode === 0, "dstack-auth");
  await waitFor(
    () =>
      Bun.spawnSync([
        "curl",
        "-sf",
        "--unix-socket",
        sock,
        "-X",
        "POST",
        "-H",
        `authorization: Bearer ${token}`,
        "-d",
        "{}",
        "http://localhost/prpc/Version?json",
      ]).exitCode === 0,
    "dstack-vmm-sim",
  );
  const client = ["--host", `unix:${sock}`, "--token", token];
  const run: number[] = [];
  for (let i = 0; i < 100; i++)
    run.push(
      sh([
        join(DIST, "dstack"),
        "run",
        `img${i}`,
        "-n",
        `b${i}`,
        "--detach",
        "-q",
        "--allowlist",
        allowlist,
        "--guest-image",
        "dstack-0.5.5",
        ...client,
      ]),
    );
  await Bun.sleep(500); // let the boots settle: ps then lists 100 running VMs
  const ps: number[] = [];
  const curl: number[] = [];
  const curlArgv = [
    "curl",
    "-sf",
    "--unix-socket",
    sock,
    "-X",
    "POST",
    "-H",
    `authorization: Bearer ${token}`,
    "-H",
    "content-type: application/json",
    "-d",
    '{"brief":false}',
    "http://localhost/prpc/Status?json",
    "-o",
    "/dev/null",
  ];
  for (let i = 0; i < N + 3; i++) {
    const a = sh([join(DIST, "dstack"), "ps", ...client]);
    const b = sh(curlArgv);
    if (i >= 3) {
      ps.push(a);
      curl.push(b);
    }
  }
  const rows = Bun.spawnSync([join(DIST, "dstack"), "ps", "-q", ...client])
    .stdout.toString()
    .trim()
    .split("\n").length;
  console.log(
    `dstack ps (${rows} running VMs, unix socket): median ${med(ps).toFixed(1)} ms; curl --unix-socket, same Status call: median ${med(curl).toFixed(1)} ms; ratio ${(med(ps) / med(curl)).toFixed(2)}× (target ≤ 3×)`,
  );
  console.log(`dstack run --detach: median ${med(run).toFixed(1)} ms over ${run.length} runs (target ≤ 150 ms)`);
} finally {
  sim.kill("SIGTERM");
  auth.kill("SIGTERM");
  await Promise.all([sim.exited, auth.exited]);
  rmSync(dir, { recursive: true, force: true });
}
