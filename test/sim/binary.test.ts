/**
 * The compiled dist/dstack-vmm-sim as a user runs it: -c required, a banner that says
 * what it is, the API on the configured unix socket, SIGTERM → exit 0 with the socket
 * gone, and a restart that keeps the VMs (state under run_path).
 */
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import pkg from "../../package.json" with { type: "json" };
import { buildAppCompose } from "../../src/core/compose/app-compose.ts";
import { connectVmm } from "../../src/core/vmm/client.ts";
import { runBin } from "../helpers/run.ts";
import { spawnSim } from "../helpers/sim.ts";

describe("dist/dstack-vmm-sim", () => {
  test("without -c it is a usage error (exit 2)", async () => {
    const r = await runBin("dstack-vmm-sim", []);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/config/);
  });

  test("a missing vmm.toml fails with its path", async () => {
    const r = await runBin("dstack-vmm-sim", ["-c", "/nonexistent/vmm.toml"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("/nonexistent/vmm.toml");
  });

  test("one version: --version, the banner, the Version call and X-App-Version all say the toolchain's (issue 13)", async () => {
    const v = await runBin("dstack-vmm-sim", ["--version"]);
    expect(v.code).toBe(0);
    const m = /^dstack-vmm-sim (\S+) \((\S+)\)\n$/.exec(v.stdout)!;
    expect(m[1]).toBe(pkg.version);
    const sim = await spawnSim();
    try {
      expect(sim.stderr()).toStartWith(`${v.stdout.trim()} (simulated, no TEE) listening on`);
      const r = await fetch("http://localhost/prpc/Version?json", { method: "POST", body: "{}", unix: sim.host.slice(5) } as RequestInit);
      expect(await r.json()).toEqual({ version: pkg.version, rev: `git:${m[2]} (dstack-vmm-sim: simulated, no TEE)` });
      expect(r.headers.get("x-app-version")).toBe(`v${pkg.version} (git:${m[2]} (dstack-vmm-sim: simulated, no TEE))`);
    } finally {
      expect(await sim.stop()).toBe(0);
    }
  });

  test("serves the API, stops cleanly on SIGTERM, and a restart keeps its VMs", async () => {
    const sim = await spawnSim({ token: "tk" });
    let id = "";
    try {
      expect(sim.stderr()).toContain("simulated, no TEE");
      const c = await connectVmm({ host: sim.host, token: "tk" });
      expect((await c.version()).version).toBeString();
      const compose = buildAppCompose({ name: "bin", dockerCompose: "services:\n  a:\n    image: x\n", kms: false }).composeFile;
      id = (await c.createVm({ name: "bin", image: "dstack-0.5.5", compose_file: compose, vcpu: 1, memory: 256, disk_size: 1 })).id;
      for (let i = 0; i < 100 && (await c.getInfo(id)).info?.boot_progress !== "done"; i++) await Bun.sleep(20);
      const info = (await c.getInfo(id)).info!;
      expect(info.status).toBe("running");
      expect(info.instance_id).toMatch(/^[0-9a-f]{40}$/);
      const log = (await Array.fromAsync(c.logs(id, { lines: 100 }))).join("");
      expect(log).toContain("simulated, no TEE");
      c.close();
    } finally {
      expect(await sim.stop()).toBe(0);
    }
    expect(sim.stderr()).toContain("stopped");
    expect(existsSync(sim.host.slice(5))).toBe(false);

    const again = await spawnSim({ token: "tk", dir: sim.dir });
    try {
      expect(again.stderr()).toContain("1 VM(s) loaded");
      const c = await connectVmm({ host: again.host, token: "tk" });
      const st = await c.status({ brief: true });
      expect(st.total).toBe(1);
      expect(st.vms[0]!.id).toBe(id);
      expect(st.vms[0]!.name).toBe("bin");
      c.close();
    } finally {
      expect(await again.stop()).toBe(0);
    }
  });

  test("a VM mid-boot when the simulator died resumes its boot after the restart (issue 13 item 14); a booted one without an instance id is not booted again", async () => {
    const compose = (name: string, noInstanceId = false) =>
      buildAppCompose({ name, dockerCompose: "services:\n  a:\n    image: x\n", kms: false, noInstanceId }).composeFile;
    const sim = await spawnSim({ bootStepMs: 400 });
    const c = await connectVmm({ host: sim.host });
    const quick = { image: "dstack-0.5.5", vcpu: 1, memory: 256, disk_size: 1 };
    const anon = (await c.createVm({ ...quick, name: "anon", compose_file: compose("anon", true) })).id;
    for (let i = 0; i < 200 && (await c.getInfo(anon)).info?.boot_progress !== "done"; i++) await Bun.sleep(20);
    const mid = (await c.createVm({ ...quick, name: "mid", compose_file: compose("mid") })).id;
    await Bun.sleep(100); // "initializing data disk"
    expect((await c.getInfo(mid)).info?.boot_progress).toBe("initializing data disk");
    c.close();
    sim.proc.kill("SIGKILL");
    await sim.proc.exited;
    const again = await spawnSim({ dir: sim.dir, bootStepMs: 20 });
    try {
      const c2 = await connectVmm({ host: again.host });
      let info = (await c2.getInfo(mid)).info!;
      for (let i = 0; i < 200 && info.boot_progress !== "done"; i++) {
        await Bun.sleep(20);
        info = (await c2.getInfo(mid)).info!;
      }
      expect(info.status).toBe("running");
      expect(info.boot_progress).toBe("done");
      expect(info.instance_id).toMatch(/^[0-9a-f]{40}$/);
      const log = (await Array.fromAsync(c2.logs(mid, { lines: 200 }))).join("");
      expect(log).toContain("restarted during this VM's boot");
      // booted before the restart, no instance id by its manifest: taken up as running, not booted again
      const a = (await c2.getInfo(anon)).info!;
      expect(a.status).toBe("running");
      expect(a.boot_progress).toBe("running");
      c2.close();
    } finally {
      expect(await again.stop()).toBe(0);
    }
  }, 60_000);
});
