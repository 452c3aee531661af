/**
 * Issue 14, item 2, made deterministic: two deploys of one compose (same
 * name, image and fixed port, so one compose hash) against the simulator,
 * the first one's CreateVm held back until the second has made its VM, then
 * refused (the port is the second one's). The first run loses;
 * its failure must not withdraw the hash the winner boots with. (Before,
 * the first run had registered the hash, found it new, and rolled it back.)
 * Also: a failed start takes its VM and hash away; a withdrawal keeps a hash
 * that another VM, even a stopped one, would boot with.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllowlist } from "../../src/auth/allowlist.ts";
import { readAllowlistFile, registerAppHash, updateAllowlist } from "../../src/auth/allowlist-file.ts";
import { fileAllowlist } from "../../src/client/allowlist/allowlist-access.ts";
import { withdrawUnused } from "../../src/client/allowlist/registration.ts";
import { buildManifest, type DeployRequest, deploy } from "../../src/client/deploy/deploy.ts";
import { parsePortSpecs } from "../../src/core/specs/ports.ts";
import { connectVmm, type VmmClient } from "../../src/core/vmm/client.ts";
import { startSim } from "../helpers/sim.ts";

const sim = startSim();
afterAll(() => sim.stop());

function request(allowlistPath: string, name: string, port: string): DeployRequest {
  return {
    name,
    dockerCompose: "services:\n  app:\n    image: busybox\n",
    image: "dstack-0.5.5",
    vcpu: 1,
    memoryMiB: 512,
    diskGiB: 1,
    ports: parsePortSpecs([port]),
    env: [],
    kms: true,
    gpus: null,
    allowlist: fileAllowlist(allowlistPath),
    localVmm: false,
  };
}

async function freshAllowlist(): Promise<string> {
  const path = join(mkdtempSync(join(tmpdir(), "rollback-race-")), "auth-allowlist.json");
  await updateAllowlist(path, (l) => l);
  return path;
}

describe("a losing deploy never withdraws the winner's registration", () => {
  test("the first deploy's CreateVm is held until the second made its VM, then refused: the hash stays", async () => {
    const path = await freshAllowlist();
    const real = await connectVmm({ host: sim.host });
    let releaseFirst!: () => void;
    const secondStarted = new Promise<void>((r) => (releaseFirst = r));
    let creates = 0;
    // The first CreateVm waits until the second deploy's has made its VM; everything else goes straight through.
    const held = new Proxy(real, {
      get(t, k, recv) {
        const v = Reflect.get(t, k, recv);
        if (k === "createVm")
          return async (cfg: Parameters<VmmClient["createVm"]>[0]) => {
            if (++creates === 1) await secondStarted;
            return t.createVm(cfg);
          };
        return typeof v === "function" ? v.bind(t) : v;
      },
    });
    const second = new Proxy(real, {
      get(t, k, recv) {
        const v = Reflect.get(t, k, recv);
        if (k === "createVm")
          return async (cfg: Parameters<VmmClient["createVm"]>[0]) => {
            const made = await t.createVm(cfg);
            releaseFirst();
            return made;
          };
        return typeof v === "function" ? v.bind(t) : v;
      },
    });
    const r = request(path, "same", "18700:80");
    const built = buildManifest(r);
    const first = deploy(held, r, built, () => {}).then(
      () => "deployed",
      (e: Error) => e.message,
    );
    await Bun.sleep(50); // the first is waiting in CreateVm (before: it had registered the hash by now)
    const won = await deploy(second, r, built, () => {});
    expect(await first).toMatch(/already exists|conflicts with VM/);
    expect(readAllowlistFile(path).apps[built.appId]?.composeHashes).toEqual([built.composeHash]);
    const named = (await real.status({ brief: true })).vms.filter((v) => v.name === "same" && v.status !== "removing");
    expect(named.map((v) => v.id)).toEqual([won.vmId]);
    real.close();
  });

  test("a deploy whose StartVm fails removes its VM and the hash it added", async () => {
    const path = await freshAllowlist();
    const real = await connectVmm({ host: sim.host });
    const failingStart = new Proxy(real, {
      get(t, k, recv) {
        if (k === "startVm")
          return async () => {
            throw new Error("StartVm refused (test)");
          };
        const v = Reflect.get(t, k, recv);
        return typeof v === "function" ? v.bind(t) : v;
      },
    });
    const r = request(path, "lonely", "18701:80");
    await expect(deploy(failingStart, r, buildManifest(r), () => {})).rejects.toThrow("StartVm refused");
    expect(parseAllowlist(JSON.stringify(readAllowlistFile(path))).apps).toEqual({});
    expect((await real.status({ brief: true })).vms.filter((v) => v.name === "lonely" && v.status !== "removing")).toEqual([]);
    real.close();
  });

  test("withdrawUnused keeps a hash a stopped VM would boot with, and withdraws it once that VM is on its way out", async () => {
    const path = await freshAllowlist();
    const c = await connectVmm({ host: sim.host });
    const r = request(path, "parked", "18702:80");
    const built = buildManifest(r);
    const { id } = await c.createVm({
      name: "parked",
      image: r.image,
      compose_file: built.composeFile,
      app_id: built.appId,
      stopped: true,
    });
    await registerAppHash(path, built.appId, built.composeHash);
    expect(await withdrawUnused(c, path, { appId: built.appId })).toEqual([]);
    expect(readAllowlistFile(path).apps[built.appId]?.composeHashes).toEqual([built.composeHash]);
    const gone = await withdrawUnused(c, path, { appId: built.appId, except: [id] });
    expect(gone).toEqual([{ appKey: built.appId, appId: built.appId, hashes: [built.composeHash], wholeApp: true }]);
    expect(readAllowlistFile(path).apps).toEqual({});
    c.close();
  });
});
