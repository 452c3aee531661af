#!/usr/bin/env bun
/**
 * A simulated host runs the app for real: `dstack run local/httpd:test -p PORT:80` until the
 * first HTTP 200 through the VMM's port mapping, against `docker-compose up -d` of the same
 * compose (published on the host directly) until its first 200, same engine, same run,
 * alternating. Medians and the ratio (target ≤ 1.5×). Needs an engine (DOCKER_HOST) and
 * busybox-static; the image is built locally (test/helpers/engine.ts).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runTool } from "../../src/host/runner.ts";
import { engineEnv } from "../../src/sim/runtime/engine.ts";
import { ensureHttpdImage, HTTPD_IMAGE, testEngine } from "../../test/helpers/engine.ts";
import { simInstall } from "../../test/helpers/sim-install.ts";

const N = Number(process.env.RUNS ?? 7);
const engine = await testEngine();
if (!engine) throw new Error("no container engine: start a dockerd and set DOCKER_HOST");
await ensureHttpdImage(engine);

const inst = await simInstall("bench-runtime", { runtime: "docker" });
const prefix = inst.prefix;

async function first200(port: number, deadlineMs = 60_000): Promise<void> {
  const end = performance.now() + deadlineMs;
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) });
      if (r.status === 200) return;
    } catch {
      /* not yet */
    }
    if (performance.now() > end) throw new Error(`no 200 on port ${port}`);
    await Bun.sleep(10);
  }
}

const dstack = (...args: string[]) => inst.dstack(args);
const compose = [...engine.rt.compose];
const dir = mkdtempSync(join(tmpdir(), "bench-compose-"));
const ours: number[] = [];
const plain: number[] = [];
try {
  for (let i = 0; i < N; i++) {
    const port = 12000 + i * 2;
    // dstack run → first 200 (the boot, the KMS decision, compose up, the port forward)
    let t = performance.now();
    const run = dstack("run", HTTPD_IMAGE, "--name", `b${i}`, "-p", `${port}:80`, "-d", "-q");
    await first200(port);
    ours.push(performance.now() - t);
    if ((await run).code !== 0) throw new Error(`dstack run failed: ${(await run).stderr}`);
    // the same compose, published on the host, by docker-compose up -d → first 200
    const user = readFileSync(
      join(prefix, "var/lib/dstack/vm", JSON.parse((await dstack("inspect", `b${i}`)).stdout).id, "guest/dstack/docker-compose.yaml"),
      "utf8",
    );
    const file = join(dir, `b${i}.yaml`);
    writeFileSync(file, user.replace('"80:80"', `"127.0.0.1:${port + 1}:80"`));
    t = performance.now();
    const up = runTool([...compose, "-p", `bench${i}`, "-f", file, "up", "-d"], {
      env: engineEnv(engine.rt),
      path: engineEnv(engine.rt).PATH,
    });
    await first200(port + 1);
    plain.push(performance.now() - t);
    if ((await up).code !== 0) throw new Error(`docker-compose up failed: ${(await up).stderr}`);
    await runTool([...compose, "-p", `bench${i}`, "-f", file, "down", "-t", "0"], {
      env: engineEnv(engine.rt),
      path: engineEnv(engine.rt).PATH,
    });
    await dstack("rm", "-f", `b${i}`);
  }
} finally {
  await inst.destroy();
  rmSync(dir, { recursive: true, force: true });
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const a = median(ours);
const b = median(plain);
console.log(`runs: ${N} (${engine.rt.engine} ${engine.rt.version}, compose ${engine.rt.compose.join(" ")} ${engine.rt.composeVersion})`);
console.log(`dstack run → first 200:          median ${a.toFixed(0)} ms  (${ours.map((x) => x.toFixed(0)).join(" ")})`);
console.log(`docker-compose up -d → first 200: median ${b.toFixed(0)} ms  (${plain.map((x) => x.toFixed(0)).join(" ")})`);
console.log(`ratio: ${(a / b).toFixed(2)}x (target <= 1.5x)`);
