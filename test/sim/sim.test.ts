/**
 * The simulator against upstream's VMM (Dstack-TEE/dstack: dstack/vmm/src/main_service.rs,
 * app.rs): raw bodies as its clients send them, every CreateVm validation error, the status
 * model, persistence, logs, auth, and the KMS role (webhook decision, env decryption).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { buildAppCompose } from "../../src/core/compose/app-compose.ts";
import { encryptEnv } from "../../src/core/env/envcrypt.ts";
import { connectVmm, type VmmClient } from "../../src/core/vmm/client.ts";
import { loadSimConfig } from "../../src/sim/config.ts";
import { serveSimulator } from "../../src/sim/server.ts";
import { startSim, type TestSim } from "../helpers/sim.ts";

const compose = (name = "hello", kms = false, envs: string[] = []) =>
  buildAppCompose({ name, dockerCompose: "services:\n  web:\n    image: nginx\n", kms, allowedEnvs: envs }).composeFile;

async function raw(sim: TestSim, method: string, body: unknown, token = sim.token) {
  const r = await fetch(`http://x/prpc/${method}?json`, {
    method: "POST",
    unix: sim.host.slice(5),
    headers: token ? { authorization: `Bearer ${token}` } : {},
    body: typeof body === "string" ? body : JSON.stringify(body),
  } as RequestInit);
  return { status: r.status, text: await r.text(), headers: r.headers };
}

async function booted(c: VmmClient, id: string) {
  for (let i = 0; i < 200; i++) {
    const vm = (await c.status({ ids: [id] })).vms[0]!;
    if (vm.boot_progress === "done" || vm.boot_error || vm.status === "exited") return vm;
    await Bun.sleep(10);
  }
  throw new Error("no boot");
}

let decisions: unknown[] = [];
let allow = true;
const webhook = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req) {
    decisions.push(await req.json());
    return Response.json({ isAllowed: allow, gatewayAppId: "", reason: allow ? "ok" : "compose hash not allowed" });
  },
});
afterAll(() => webhook.stop(true));

describe("dstack-vmm-sim wire contract", () => {
  let sim: TestSim;
  let c: VmmClient;
  beforeAll(async () => {
    sim = startSim({ token: "t0ken", authUrl: `http://127.0.0.1:${webhook.port}` });
    c = await connectVmm({ host: sim.host, token: "t0ken" });
  });
  afterAll(async () => {
    c.close();
    await sim.stop();
  });

  test("401 with WWW-Authenticate and no body without a token; Bearer, Basic and X-Admin-Token pass", async () => {
    const r = await raw(sim, "Status", {}, "");
    expect(r.status).toBe(401);
    expect(r.text).toBe("");
    expect(r.headers.get("www-authenticate")).toBe('Basic realm="dstack-vmm API"');
    const wrong = await raw(sim, "Status", {}, "nope");
    expect(wrong.status).toBe(401);
    const basic = await fetch("http://x/prpc/Status?json", {
      method: "POST",
      unix: sim.host.slice(5),
      headers: { authorization: `Basic ${btoa("user:t0ken")}` },
    } as RequestInit);
    expect(basic.status).toBe(200);
    const admin = await fetch("http://x/prpc/Status?json", {
      method: "POST",
      unix: sim.host.slice(5),
      headers: { "x-admin-token": "t0ken" },
    } as RequestInit);
    expect(admin.status).toBe(200);
    const q = await fetch("http://x/prpc/Status?json&token=t0ken", { unix: sim.host.slice(5) } as RequestInit);
    expect(q.status).toBe(200);
  });

  test("empty fleet, Version, GetMeta and ListImages say what they are", async () => {
    expect(JSON.parse((await raw(sim, "Status", {})).text)).toEqual({ vms: [], port_mapping_enabled: true, total: 0 });
    expect((await c.version()).rev).toContain("simulated, no TEE");
    const meta = await c.getMeta();
    expect(meta.kms).toEqual({ url: "https://10.0.2.2:12001", urls: ["https://10.0.2.2:12001"] });
    expect(meta.resources.max_cvm_number).toBe(1000);
    const imgs = await c.listImages();
    expect(imgs[0]).toMatchObject({ name: "dstack-0.5.5", version: "0.5.5", is_dev: false });
    expect(JSON.parse(imgs[0]!.description)).toMatchObject({
      kernel: "bzImage",
      initrd: "initramfs.cpio.gz",
      version: "0.5.5",
      "bios-sev": null,
    });
  });

  test("CreateVm with a minimal body → {id}; Status fields as upstream's; Empty methods answer null", async () => {
    const r = await raw(sim, "CreateVm", {
      name: "hello",
      image: "dstack-0.5.5",
      compose_file: compose(),
      vcpu: 2,
      memory: 2048,
      disk_size: 20,
      ports: [{ protocol: "tcp", host_port: 8080, vm_port: 80, host_address: "" }],
    });
    expect(r.status).toBe(200);
    const { id } = JSON.parse(r.text);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const vm = await booted(c, id);
    expect(Object.keys(vm).sort()).toEqual(
      [
        "id",
        "name",
        "status",
        "uptime",
        "app_url",
        "app_id",
        "instance_id",
        "configuration",
        "exited_at",
        "boot_progress",
        "boot_error",
        "shutdown_progress",
        "image_version",
        "events",
        "interfaces",
      ].sort(),
    );
    expect(vm).toMatchObject({
      name: "hello",
      status: "running",
      boot_progress: "done",
      boot_error: "",
      app_url: null,
      exited_at: "never",
      image_version: "0.5.5",
    });
    expect(vm.app_id).toMatch(/^[0-9a-f]{40}$/);
    expect(vm.instance_id).toMatch(/^[0-9a-f]{40}$/);
    expect(vm.configuration!.ports).toEqual([{ protocol: "tcp", host_port: 8080, vm_port: 80, host_address: "127.0.0.1" }]);
    expect(vm.configuration!.gpus).toEqual({ gpus: [], attach_mode: "listed" });
    const brief = JSON.parse((await raw(sim, "Status", { brief: true })).text);
    expect(brief.vms[0].configuration).toBeNull();
    const stop = await raw(sim, "StopVm", { id });
    expect(stop.text).toBe("null");
    expect((await c.status({ ids: [id] })).vms[0]!.status).toBe("stopped");
    await c.startVm(id);
    expect((await booted(c, id)).status).toBe("running");
    expect((await c.status({ keyword: "hell" })).total).toBe(1);
    expect((await c.status({ keyword: "Hell" })).total).toBe(0);
  });

  test("every CreateVm validation error of upstream main_service.rs, as HTTP 400 {error} pretty JSON", async () => {
    const base = { name: "v", image: "dstack-0.5.5", compose_file: compose("v"), vcpu: 1, memory: 512, disk_size: 1 };
    const cases: [object, string][] = [
      [{ ...base, name: "bad/name" }, "Invalid name: bad/name"],
      [
        { ...base, ports: [{ protocol: "tcp", host_port: 30000, vm_port: 80, host_address: "" }] },
        "Port mapping is not allowed for tcp:30000",
      ],
      [{ ...base, ports: [{ protocol: "TCP", host_port: 80, vm_port: 80, host_address: "" }] }, "Port mapping is not allowed for TCP:80"],
      [{ ...base, ports: [{ protocol: "tcp", host_port: 70000, vm_port: 80, host_address: "" }] }, "Invalid host port"],
      [{ ...base, ports: [{ protocol: "tcp", host_port: 81, vm_port: 80, host_address: "nope" }] }, "Invalid host address"],
      [
        {
          ...base,
          ports: [
            { protocol: "tcp", host_port: 81, vm_port: 80, host_address: "" },
            { protocol: "tcp", host_port: 81, vm_port: 81, host_address: "0.0.0.0" },
          ],
        },
        "duplicate host port mapping: tcp 0.0.0.0:81",
      ],
      [
        { ...base, ports: [{ protocol: "tcp", host_port: 8080, vm_port: 80, host_address: "0.0.0.0" }] },
        "host port mapping conflicts with VM",
      ],
      [{ ...base, compose_file: "{not json" }, "invalid app compose JSON"],
      [
        { ...base, compose_file: JSON.stringify({ name: "v", runner: "docker-compose", manifest_version: 2, key_provider: "tpm2" }) },
        "invalid key_provider",
      ],
      [{ ...base, compose_file: JSON.stringify({ runner: "docker-compose" }) }, "Failed to load VM: Failed to read compose file"],
      [{ ...base, image: "../etc" }, "Failed to load VM: Invalid image name"],
      [{ ...base, image: "dstack-9.9.9" }, "Failed to load VM: Failed to load image"],
      [{ ...base, gpus: { gpus: [{ slot: "18:00.0" }], attach_mode: "listed" } }, "GPU is not enabled"],
      [{ ...base, gpus: {} }, "Invalid GPU attach mode"],
      [{ ...base, vcpu: "2" }, "invalid type"],
      [{ ...base, name: null }, "invalid type: null"],
    ];
    for (const [body, msg] of cases) {
      const r = await raw(sim, "CreateVm", body);
      expect(r.status).toBe(400);
      expect(r.headers.get("content-type")).toBe("application/json");
      expect(r.text).toStartWith('{\n  "error": ');
      expect(JSON.parse(r.text).error).toContain(msg);
    }
    expect(JSON.parse((await raw(sim, "StartVm", { id: "nope" })).text).error).toContain("VM not found");
    expect(JSON.parse((await raw(sim, "Vmm.Status", {})).text).error).toBe("Service not found: Vmm.Status");
    expect((await raw(sim, "Teepod.Status", {})).status).toBe(200);
  });

  test("an old image version is refused at start", async () => {
    const { createSimulatedImage } = await import("../../src/host/images/images.ts");
    createSimulatedImage(`${sim.dir}/images`, "dstack-0.4.0", "0.4.0");
    const r = await raw(sim, "CreateVm", {
      name: "old",
      image: "dstack-0.4.0",
      compose_file: compose("old"),
      vcpu: 1,
      memory: 512,
      disk_size: 1,
    });
    expect(JSON.parse(r.text).error).toContain("Unsupported image version: (0.4.0)");
  });

  test("the KMS role: a BootInfo reaches the webhook; a denial exits the VM with Boot denied in the serial log", async () => {
    decisions = [];
    allow = false;
    const { id } = await c.createVm({
      name: "denied",
      image: "dstack-0.5.5",
      compose_file: compose("denied", true),
      vcpu: 1,
      memory: 512,
      disk_size: 1,
    });
    const vm = await booted(c, id);
    expect(vm.status).toBe("exited");
    expect(vm.boot_error).toBe("Boot denied: compose hash not allowed");
    const b = decisions[0] as Record<string, unknown>;
    expect(Object.keys(b).sort()).toEqual([
      "advisoryIds",
      "appId",
      "composeHash",
      "deviceId",
      "instanceId",
      "keyProviderInfo",
      "mrAggregated",
      "mrSystem",
      "osImageHash",
      "tcbStatus",
      "teeVariant",
    ]);
    expect(b.appId).toBe(vm.app_id);
    expect(b.osImageHash).toMatch(/^[0-9a-f]{64}$/);
    let log = "";
    for await (const s of c.logs(id, { lines: 100 })) log += s;
    expect(log).toContain("simulated, no TEE");
    expect(log).toContain("Boot denied: compose hash not allowed");
    allow = true;
  });

  test("encrypted env: decrypted names in the log, never values; an undecryptable env fails the boot", async () => {
    const built = buildAppCompose({ name: "envy", dockerCompose: "services:\n  a:\n    image: x\n", kms: true, allowedEnvs: ["A_KEY"] });
    const pk = await c.getAppEnvEncryptPubKey(built.appId);
    expect(pk.public_key).toMatch(/^[0-9a-f]{64}$/);
    expect((await c.getAppEnvEncryptPubKey(built.appId)).public_key).toBe(pk.public_key);
    const env = encryptEnv([{ key: "A_KEY", value: "s3cr3t-value" }], pk.public_key);
    const { id } = await c.createVm({
      name: "envy",
      image: "dstack-0.5.5",
      compose_file: built.composeFile,
      vcpu: 1,
      memory: 512,
      disk_size: 1,
      encrypted_env: env,
    });
    expect((await booted(c, id)).boot_progress).toBe("done");
    let log = "";
    for await (const s of c.logs(id, { lines: 100 })) log += s;
    expect(log).toContain("decrypted env variables: A_KEY");
    expect(log).not.toContain("s3cr3t-value");
    const other = buildAppCompose({ name: "envx", dockerCompose: "services:\n  a:\n    image: y\n", kms: true, allowedEnvs: ["A_KEY"] });
    const { id: bad } = await c.createVm({
      name: "envx",
      image: "dstack-0.5.5",
      compose_file: other.composeFile,
      vcpu: 1,
      memory: 512,
      disk_size: 1,
      encrypted_env: env,
    });
    expect((await booted(c, bad)).boot_error).toContain("cannot decrypt the encrypted env");
  });

  test("/logs: lines, channels, 404 and bad bools", async () => {
    const id = (await c.status({ keyword: "hello" })).vms[0]!.id;
    let two = "";
    for await (const s of c.logs(id, { lines: 2 })) two += s;
    expect(two.trimEnd().split("\n")).toHaveLength(2);
    let out = "";
    for await (const s of c.logs(id, { ch: "stdout" })) out += s;
    expect(out).toContain("qemu is not run");
    const nf = await fetch(`http://x/logs?id=nope&token=t0ken`, { unix: sim.host.slice(5) } as RequestInit);
    expect(nf.status).toBe(404);
    expect(await nf.text()).toBe("VM not found");
    const bad = await fetch(`http://x/logs?id=${id}&follow=1&token=t0ken`, { unix: sim.host.slice(5) } as RequestInit);
    expect(bad.status).toBe(422);
    const ch = await fetch(`http://x/logs?id=${id}&ch=nope&token=t0ken`, { unix: sim.host.slice(5) } as RequestInit);
    expect(ch.status).toBe(400);
  });

  test("follow streams lines as they are written", async () => {
    const id = (await c.status({ keyword: "hello" })).vms[0]!.id;
    const it = c.logs(id, { follow: true, lines: 0 })[Symbol.asyncIterator]();
    const next = it.next();
    await Bun.sleep(150);
    await c.shutdownVm(id);
    const got = await next;
    expect(got.value).toContain("shutdown requested");
    await it.return?.(undefined);
  });

  test("ShutdownVm: `stopping` while the guest powers off, then `stopped`; StartVm while stopping keeps it running", async () => {
    const id = (await c.status({ keyword: "hello" })).vms[0]!.id;
    const seen = async () => {
      const states: string[] = [];
      for (let i = 0; i < 200; i++) {
        const s = (await c.status({ ids: [id], brief: true })).vms[0]!.status;
        if (states.at(-1) !== s) states.push(s);
        if (s === "stopped") break;
        await Bun.sleep(2);
      }
      return states;
    };
    if ((await c.status({ ids: [id] })).vms[0]!.status !== "stopped") expect(await seen()).toContain("stopped");
    await c.startVm(id);
    await booted(c, id);
    await c.shutdownVm(id);
    expect(await seen()).toEqual(["stopping", "stopped"]);
    await c.startVm(id);
    await booted(c, id);
    await c.shutdownVm(id);
    await c.startVm(id); // changed its mind: the process was still up
    await Bun.sleep(200);
    expect((await c.status({ ids: [id] })).vms[0]!.status).toBe("running");
    await c.stopVm(id);
  });

  test("UpgradeApp answers the new app id; resources need a stopped VM; RemoveVm removes", async () => {
    const id = (await c.status({ keyword: "hello" })).vms[0]!.id;
    await c.startVm(id);
    await booted(c, id);
    const up = await c.upgradeApp({ id, compose_file: compose("hello2") });
    expect(up.id).toMatch(/^[0-9a-f]{40}$/);
    const r = await raw(sim, "UpdateVm", { id, vcpu: 4 });
    expect(JSON.parse(r.text).error).toBe(`vm should be stopped before resize: ${id}`);
    await c.removeVm(id);
    await Bun.sleep(100);
    expect((await c.getInfo(id)).found).toBe(false);
  });

  test("a restarted simulator keeps its VMs", async () => {
    const before = (await c.status({})).vms.map((v) => [v.id, v.status]);
    await sim.stop();
    const again = serveSimulator(loadSimConfig(sim.vmmToml));
    try {
      const c2 = await connectVmm({ host: again.url, token: "t0ken" });
      const after = (await c2.status({})).vms.map((v) => [v.id, v.status]);
      expect(after).toEqual(before);
      c2.close();
    } finally {
      await again.stop();
      sim = startSim({ token: "t0ken", dir: sim.dir, authUrl: `http://127.0.0.1:${webhook.port}` });
    }
  });
});

describe("capacity and policy", () => {
  test("CID pool exhaustion and disabled port mapping", async () => {
    const sim = startSim({ cidPoolSize: 1, portMappingEnabled: false });
    const c = await connectVmm({ host: sim.host });
    try {
      await c.createVm({ name: "a", image: "dstack-0.5.5", compose_file: compose("a"), vcpu: 1, memory: 256, disk_size: 1 });
      await expect(
        c.createVm({ name: "b", image: "dstack-0.5.5", compose_file: compose("b"), vcpu: 1, memory: 256, disk_size: 1 }),
      ).rejects.toThrow("Failed to load VM: CID pool exhausted");
      await expect(
        c.createVm({
          name: "c",
          image: "dstack-0.5.5",
          compose_file: compose("c"),
          ports: [{ protocol: "tcp", host_port: 80, vm_port: 80, host_address: "" }],
        }),
      ).rejects.toThrow("Port mapping is disabled");
    } finally {
      c.close();
      await sim.stop();
    }
  });

  test("a KMS app with no webhook configured fails its boot with the reason", async () => {
    const sim = startSim();
    const c = await connectVmm({ host: sim.host });
    try {
      const { id } = await c.createVm({
        name: "k",
        image: "dstack-0.5.5",
        compose_file: compose("k", true),
        vcpu: 1,
        memory: 256,
        disk_size: 1,
      });
      const vm = await booted(c, id);
      expect(vm.boot_error).toContain("no KMS auth webhook configured");
    } finally {
      c.close();
      await sim.stop();
    }
  });
});
