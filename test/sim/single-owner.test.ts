/**
 * Issue 13 item 7: a second dstack-vmm-sim on the same vmm.toml (or another one on the same
 * socket) refuses to start, naming the holder, and leaves the running one's socket alone.
 */
import { expect, test } from "bun:test";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connectVmm } from "../../src/core/vmm/client.ts";
import { runBin } from "../helpers/run.ts";
import { spawnSim } from "../helpers/sim.ts";

test("a second dstack-vmm-sim -c same.toml exits 4 naming the first; another run_path on the same socket is refused too", async () => {
  const sim = await spawnSim();
  try {
    const sock = sim.host.slice(5);
    const ino = statSync(sock).ino;
    const second = await runBin("dstack-vmm-sim", ["-c", sim.vmmToml]);
    expect(second.code).toBe(4);
    expect(second.stderr).toContain(`another dstack-vmm-sim runs on ${join(sim.dir, "vm")}: pid ${sim.proc.pid} (`);
    expect(second.stderr).toContain(sim.vmmToml);
    // same address, its own run_path
    const other = join(sim.dir, "other.toml");
    writeFileSync(other, readFileSync(sim.vmmToml, "utf8").replace(/^run_path = .*$/m, `run_path = "${join(sim.dir, "vm2")}"`));
    const third = await runBin("dstack-vmm-sim", ["-c", other]);
    expect(third.code).toBe(4);
    expect(third.stderr).toContain(`another server answers on ${sock}`);
    // the first still owns its socket, and answers on it
    expect(statSync(sock).ino).toBe(ino);
    const c = await connectVmm({ host: sim.host });
    expect((await c.version()).version).toBeString();
    c.close();
  } finally {
    expect(await sim.stop()).toBe(0);
  }
  // once it is gone, the same config starts again
  const again = await spawnSim({ dir: sim.dir });
  expect(await again.stop()).toBe(0);
}, 60_000);
