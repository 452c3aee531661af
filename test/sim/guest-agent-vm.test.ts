/**
 * The guest agent of VMs the simulator boots (in-process simulator, no container engine
 * needed: the agent serves whether or not the app's containers run): DstackClient and
 * TappdClient on each VM's /var/run/dstack.sock and tappd.sock under its guest root.
 */
import { afterAll, beforeAll, describe, expect, spyOn, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DstackClient, TappdClient } from "@phala/dstack-sdk";
import { buildAppCompose } from "../../src/core/compose/app-compose.ts";
import { checkQuote } from "../../src/core/tdx/verify.ts";
import { connectVmm, type VmmClient } from "../../src/core/vmm/client.ts";
import { startSim, type TestSim } from "../helpers/sim.ts";

const warn = spyOn(console, "warn").mockImplementation(() => {}); // TappdClient says it is deprecated
const webhook = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch: () => Response.json({ isAllowed: true, gatewayAppId: "", reason: "ok" }),
});
const appA = buildAppCompose({ name: "app-a", dockerCompose: "services:\n  web:\n    image: nginx\n", kms: true });
const appB = buildAppCompose({ name: "app-b", dockerCompose: "services:\n  web:\n    image: caddy\n", kms: true });

let sim: TestSim;
let c: VmmClient;
beforeAll(async () => {
  sim = startSim({ authUrl: `http://127.0.0.1:${webhook.port}` });
  c = await connectVmm({ host: sim.host });
});
afterAll(async () => {
  c.close();
  await sim.stop();
  webhook.stop(true);
  warn.mockRestore();
});

async function boot(name: string, composeFile: string): Promise<string> {
  const { id } = await c.createVm({ name, image: "dstack-0.5.5", compose_file: composeFile, vcpu: 2, memory: 1024, disk_size: 1 });
  await booted(id);
  return id;
}

async function booted(id: string) {
  for (let i = 0; i < 500; i++) {
    const vm = (await c.status({ ids: [id] })).vms[0]!;
    if (vm.boot_error) throw new Error(vm.boot_error);
    if (vm.boot_progress === "done") return vm;
    await Bun.sleep(10);
  }
  throw new Error(`VM ${id} did not boot`);
}

const socket = (id: string, name = "dstack.sock") => join(sim.dir, "vm", id, "guest", "var", "run", name);
const key = async (id: string) => Buffer.from((await new DstackClient(socket(id)).getKey("wallet", "signing")).key).toString("hex");

describe("the guest agent of a booted VM", () => {
  test("Info: the app id, the instance id, the real compose hash and the image's pin", async () => {
    const id = await boot("a1", appA.composeFile);
    const vm = await booted(id);
    const info = await new DstackClient(socket(id)).info();
    expect(info.app_id).toBe(appA.appId);
    expect(info.instance_id).toBe(vm.instance_id!);
    expect(info.compose_hash).toBe(appA.composeHash);
    expect((info.tcb_info as unknown as { app_compose: string }).app_compose).toBe(appA.composeFile);
    const pin = readFileSync(join(sim.dir, "images", "dstack-0.5.5", "digest.txt"), "utf8").trim();
    expect(info.os_image_hash).toBe(pin);
    expect(JSON.parse(info.vm_config!)).toMatchObject({ os_image_hash: pin, cpu_count: 2, memory_size: 1024 * 1024 * 1024 });
    const q = await new DstackClient(socket(id)).getQuote("nonce");
    const checked = checkQuote(Buffer.from(q.quote, "hex"), JSON.parse(q.event_log), Buffer.from("nonce"));
    expect(q.replayRtmrs()).toEqual([checked.report.rtmr0, checked.report.rtmr1, checked.report.rtmr2, checked.report.rtmr3]);
    expect(checked).toMatchObject({
      simulated: true,
      appId: appA.appId,
      composeHash: appA.composeHash,
      instanceId: vm.instance_id!,
      osImageHash: pin,
    });
  });

  test("keys: the same on two VMs of one app and across a restart; another app's differ", async () => {
    const a1 = (await c.status({})).vms.find((v) => v.name === "a1")!.id;
    const a2 = await boot("a2", appA.composeFile);
    const b = await boot("b", appB.composeFile);
    const k = await key(a1);
    expect(await key(a2)).toBe(k);
    expect(await key(b)).not.toBe(k);
    await c.stopVm(a1);
    await c.startVm(a1);
    await booted(a1);
    expect(await key(a1)).toBe(k);
  });

  test("TappdClient on the VM's tappd.sock", async () => {
    const id = (await c.status({})).vms.find((v) => v.name === "b")!.id;
    const tappd = new TappdClient(socket(id, "tappd.sock"));
    const q = await tappd.tdxQuote("x");
    expect(q.replayRtmrs()).toHaveLength(4);
    expect((await tappd.deriveKey("/tls")).certificate_chain).toHaveLength(2);
  });
});
