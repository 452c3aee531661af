/**
 * The simulator in-process with a container engine: a restarted simulator re-adopts the apps
 * of VMs that kept running (same containers, the port answers again), removes what it made for
 * VMs whose dirs went while it was down, and a removed VM leaves nothing of its project in the engine.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { buildAppCompose } from "../../src/core/compose/app-compose.ts";
import { connectVmm } from "../../src/core/vmm/client.ts";
import { ensureHttpdImage, HTTPD_IMAGE, INDEX_HTML, testEngine } from "../helpers/engine.ts";
import { startSim, type TestSim } from "../helpers/sim.ts";

const engine = await testEngine();

describe.skipIf(!engine)("re-adoption and removal (in-process simulator, real engine)", () => {
  let sim: TestSim | undefined;
  afterAll(async () => {
    await sim?.stop();
  });

  const extra = () =>
    [
      `runtime = "docker"`,
      `engine = ${JSON.stringify(engine!.rt.client)}`,
      `compose = ${JSON.stringify(engine!.rt.compose)}`,
      `engine_host = ${JSON.stringify(engine!.rt.host)}`,
    ].join("\n");

  async function get(port: number) {
    try {
      return await (await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(3000) })).text();
    } catch {
      return "refused";
    }
  }

  test("restart: the containers keep running and the mapping answers again; rm removes the project", async () => {
    await ensureHttpdImage(engine!);
    sim = startSim({ extra: extra() });
    const dir = sim.dir;
    const port = 15000 + Math.floor(Math.random() * 4000);
    let c = await connectVmm({ host: sim.host });
    const built = buildAppCompose({
      name: "adopt",
      dockerCompose: `services:\n  web:\n    image: ${HTTPD_IMAGE}\n    ports: ["80:80"]\n`,
      kms: false,
    });
    const { id } = await c.createVm({
      name: "adopt",
      image: "dstack-0.5.5",
      compose_file: built.composeFile,
      vcpu: 1,
      memory: 256,
      disk_size: 1,
      ports: [{ protocol: "tcp", host_address: "127.0.0.1", host_port: port, vm_port: 80 }],
    });
    await sim.sim.idle();
    expect((await c.status({ ids: [id] })).vms[0]!.boot_progress).toBe("done");
    expect(await get(port)).toBe(INDEX_HTML);
    const containers = async (vm = id) =>
      (await engine!.docker("ps", "-aq", "--no-trunc", "--filter", `label=io.dstack-sim.vm=${vm}`)).stdout.trim();
    const before = await containers();
    expect(before).not.toBe("");
    const orphan = (
      await c.createVm({ name: "orphan", image: "dstack-0.5.5", compose_file: built.composeFile, vcpu: 1, memory: 256, disk_size: 1 })
    ).id;
    await sim.sim.idle();
    expect(await containers(orphan)).not.toBe("");

    c.close();
    await sim.stop();
    sim = undefined;
    expect(await get(port)).toBe("refused"); // the simulator's forward is gone, the container is not
    expect(await containers()).toBe(before);
    rmSync(join(dir, "vm", orphan), { recursive: true, force: true }); // its VM is gone while the simulator is down

    sim = startSim({ dir, extra: extra() });
    c = await connectVmm({ host: sim.host });
    await sim.sim.idle();
    expect(await get(port)).toBe(INDEX_HTML);
    expect(await containers()).toBe(before); // adopted, not recreated
    expect(await containers(orphan)).toBe(""); // swept

    await c.removeVm(id);
    await sim.sim.idle();
    expect(await containers()).toBe("");
    const left = await engine!.docker("ps", "-aq", "--filter", `label=io.dstack-sim.vm=${id}`);
    const nets = await engine!.docker("network", "ls", "-q", "--filter", `label=io.dstack-sim.vm=${id}`);
    expect(left.stdout.trim() + nets.stdout.trim()).toBe("");
    expect(await get(port)).toBe("refused");
    c.close();
  }, 120_000);
});
