#!/usr/bin/env bun
/**
 * A full Status call (1,000 VMs, with configurations) over the unix socket:
 * through our client vs `curl --unix-socket` for the same request, same run.
 * Median and p99 of each, and the ratio (target ≤ 1.5×).
 */
import { join } from "node:path";
import { buildAppCompose } from "../../src/core/compose/app-compose.ts";
import { connectVmm } from "../../src/core/vmm/client.ts";
import { startSim } from "../../test/helpers/sim.ts";

const N = Number(process.env.RUNS ?? 60);
const sim = startSim({ token: "bench" });
const c = await connectVmm({ host: sim.host, token: "bench" });
for (let i = 0; i < 1000; i++) {
  const b = buildAppCompose({ name: `vm${i}`, dockerCompose: `services:\n  a:\n    image: img${i}\n`, kms: false });
  await c.createVm({
    name: `vm${i}`,
    image: "dstack-0.5.5",
    compose_file: b.composeFile,
    vcpu: 1,
    memory: 256,
    disk_size: 1,
    stopped: true,
  });
}
const sock = sim.host.slice(5);
const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

// Both sides include connect, request and reading the whole answer; curl also pays its process start,
// which is why the client in-process must stay within 1.5× of it.
const ours: number[] = [];
const curl: number[] = [];
const body = "{}";
for (let i = 0; i < N + 5; i++) {
  let t = performance.now();
  const r = await c.status({});
  const a = performance.now() - t;
  if (r.total !== 1000) throw new Error(`expected 1000 VMs, got ${r.total}`);
  t = performance.now();
  // async spawn: the simulator answers from this same process
  const p = Bun.spawn(
    [
      "curl",
      "-s",
      "--unix-socket",
      sock,
      "-X",
      "POST",
      "-H",
      "authorization: Bearer bench",
      "-H",
      "content-type: application/json",
      "-d",
      body,
      "http://localhost/prpc/Status?json",
    ],
    { stdout: "pipe" },
  );
  const text = await new Response(p.stdout).text();
  await p.exited;
  const b = performance.now() - t;
  if (p.exitCode !== 0 || !text.includes('"total":1000')) throw new Error("curl failed");
  if (i >= 5) {
    ours.push(a);
    curl.push(b);
  }
}
const f = (x: number) => x.toFixed(2);
console.log(`Status with 1,000 VMs over ${join("unix:", sock)}, ${N} runs each:`);
console.log(`  client (in-process call):   median ${f(q(ours, 0.5))} ms, p99 ${f(q(ours, 0.99))} ms`);
console.log(`  curl --unix-socket (process): median ${f(q(curl, 0.5))} ms, p99 ${f(q(curl, 0.99))} ms`);
console.log(
  `  ratio client/curl: median ${(q(ours, 0.5) / q(curl, 0.5)).toFixed(2)}×, p99 ${(q(ours, 0.99) / q(curl, 0.99)).toFixed(2)}× (target ≤ 1.5×)`,
);
c.close();
await sim.stop();
