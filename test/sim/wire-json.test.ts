/**
 * Issue 13 items 11-12: the simulator's CreateVm and compose checks held against upstream's
 * prpc JSON (serde: unknown fields ignored, wrong types a 400) and dstack-types' AppCompose
 * (Option fields take null), with anyhow's messages (Dstack-TEE/dstack main_service.rs).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { buildAppCompose } from "../../src/core/compose/app-compose.ts";
import { startSim, type TestSim } from "../helpers/sim.ts";

let sim: TestSim;
beforeAll(() => {
  sim = startSim();
});
afterAll(async () => {
  await sim.stop();
});

async function call(method: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(`http://x/prpc/${method}?json`, {
    method: "POST",
    unix: sim.host.slice(5),
    body: JSON.stringify(body),
  } as RequestInit);
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

const composeFile = buildAppCompose({ name: "w", dockerCompose: "services:\n  w:\n    image: nginx\n", kms: false }).composeFile;
const base = { name: "w", image: "dstack-0.5.5", compose_file: composeFile, vcpu: 1, memory: 256, disk_size: 1, stopped: true };

describe("item 11: CreateVm decodes its body as serde does", () => {
  test("unknown fields are dropped: GetInfo and Status echo none of them, nested ones included", async () => {
    const r = await call("CreateVm", {
      ...base,
      foo: 1,
      __proto__x: "y",
      ports: [{ protocol: "tcp", host_port: 18080, vm_port: 80, host_address: "127.0.0.1", bar: true }],
      gpus: { gpus: [], attach_mode: "listed", baz: 2 },
    });
    expect(r.status).toBe(200);
    const info = (await call("GetInfo", { id: r.json.id })).json.info as { configuration: Record<string, unknown> };
    const cfg = info.configuration;
    expect(cfg.foo).toBeUndefined();
    expect(cfg.__proto__x).toBeUndefined();
    expect(cfg.ports).toEqual([{ protocol: "tcp", host_port: 18080, vm_port: 80, host_address: "127.0.0.1" }]);
    expect(cfg.gpus).toEqual({ gpus: [], attach_mode: "listed" });
    expect(Object.keys(cfg).sort()).toEqual(
      [
        "name",
        "image",
        "compose_file",
        "vcpu",
        "memory",
        "disk_size",
        "ports",
        "encrypted_env",
        "app_id",
        "user_config",
        "hugepages",
        "pin_numa",
        "gpus",
        "kms_urls",
        "gateway_urls",
        "stopped",
        "no_tee",
        "networking",
        "networks",
        "simulated_tee",
      ].sort(),
    );
    expect((await call("RemoveVm", { id: r.json.id })).status).toBe(200);
  });

  test("a wrongly typed field is a 400 naming it, whichever field, nested ones included; nothing is created", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ hugepages: "yes" }, 'invalid type: "yes", expected a boolean for field `hugepages`'],
      [{ pin_numa: 1 }, "expected a boolean for field `pin_numa`"],
      [{ no_tee: "false" }, "expected a boolean for field `no_tee`"],
      [{ vcpu: -1 }, "expected u32 for field `vcpu`"],
      [{ memory: 1.5 }, "expected u32 for field `memory`"],
      [{ disk_size: 2 ** 32 }, "expected u32 for field `disk_size`"],
      [{ kms_urls: ["https://k", 5] }, "expected a string for field `kms_urls`"],
      [{ gateway_urls: "https://g" }, "expected a sequence for field `gateway_urls`"],
      [{ ports: [{ protocol: "tcp", host_port: "8080", vm_port: 80, host_address: "127.0.0.1" }] }, "expected u32 for field `host_port`"],
      [{ gpus: { gpus: "all", attach_mode: "listed" } }, "expected a sequence for field `gpus`"],
      [{ networking: "user" }, "expected struct for field `networking`"],
      [{ networks: [{ mode: 1 }] }, "expected a string for field `mode`"],
      [{ simulated_tee: 3 }, "expected a string for field `simulated_tee`"],
      [{ name: null }, "invalid type: null, expected a string for field `name`"],
    ];
    for (const [extra, msg] of cases) {
      const r = await call("CreateVm", { ...base, ...extra });
      expect({ extra, status: r.status, error: r.json.error }).toEqual({ extra, status: 400, error: expect.stringContaining(msg) });
    }
    // null is none where upstream has an Option
    const ok = await call("CreateVm", { ...base, app_id: null, gpus: null, networking: null, simulated_tee: null });
    expect(ok.status).toBe(200);
    const vms = (await call("Status", {})).json.vms as { status: string }[];
    expect(vms.filter((v) => v.status !== "removing")).toHaveLength(1);
    await call("RemoveVm", { id: ok.json.id });
  });
});

describe("item 12: compose files as upstream parses them", () => {
  const withCompose = (extra: Record<string, unknown>) =>
    JSON.stringify({ manifest_version: 2, name: "w", runner: "docker-compose", ...extra });

  test("docker_compose_file: null (an Option<String>) and other Option fields null are accepted", async () => {
    const cf = withCompose({ docker_compose_file: null, storage_fs: null, init_script: null, snapshotter: null, requirements: null });
    const r = await call("CreateVm", { ...base, compose_file: cf });
    expect(r).toMatchObject({ status: 200 });
    expect((await call("GetComposeHash", { name: "w", compose_file: cf })).status).toBe(200);
    expect((await call("UpdateVm", { id: r.json.id, compose_file: cf })).status).toBe(200);
    await call("RemoveVm", { id: r.json.id });
  });

  test("non-JSON: CreateVm says 'invalid app compose JSON: …', UpdateVm, UpgradeApp and GetComposeHash 'Invalid compose file: …', with the cause", async () => {
    const create = await call("CreateVm", { ...base, compose_file: "{not json" });
    expect(create.status).toBe(400);
    expect(create.json.error).toMatch(/^invalid app compose JSON: \S/);
    const hash = await call("GetComposeHash", { name: "w", compose_file: "{not json" });
    expect(hash.status).toBe(400);
    expect(hash.json.error).toMatch(/^Invalid compose file: \S/);
    expect(hash.json.error).not.toContain("invalid app compose");
    const vm = await call("CreateVm", base);
    for (const m of ["UpdateVm", "UpgradeApp"]) {
      const r = await call(m, { id: vm.json.id, compose_file: "{not json" });
      expect(r.status).toBe(400);
      expect(r.json.error).toMatch(/^Invalid compose file: \S/);
      const missing = await call(m, { id: vm.json.id, compose_file: JSON.stringify({ name: "w" }) });
      expect(missing.json.error).toBe("Invalid compose file: manifest_version: missing (required); runner: missing (required)");
    }
    await call("RemoveVm", { id: vm.json.id });
  });
});

describe("item 13: GetMeta's gateway", () => {
  test("reads [gateway] from vmm.toml; upstream's defaults without it", async () => {
    const own = startSim({ tcp: true, extra: '[gateway]\nbase_domain = "apps.example.org"\nport = 9443\nagent_port = 9090' });
    try {
      const meta = (await (await fetch(`${own.host}/prpc/GetMeta?json`, { method: "POST", body: "{}" })).json()) as { gateway: unknown };
      expect(meta.gateway).toEqual({ url: "", base_domain: "apps.example.org", port: 9443, agent_port: 9090, urls: [] });
    } finally {
      await own.stop();
    }
    const meta = (await call("GetMeta", {})).json as { gateway: unknown };
    expect(meta.gateway).toMatchObject({ base_domain: "localhost", port: 8082, agent_port: 8090 });
  });
});
