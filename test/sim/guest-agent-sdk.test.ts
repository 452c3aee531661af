/**
 * The simulated guest agent against its peer, @phala/dstack-sdk's DstackClient
 * and TappdClient, on a temp unix socket.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DstackClient } from "@phala/dstack-sdk";
import { hexOf } from "../../src/core/keys/hex.ts";
import { k256PublicKey } from "../../src/core/keys/k256.ts";
import { verifyKeyChain } from "../../src/core/keys/key-chain.ts";
import { parseTdxQuote } from "../../src/core/tdx/quote.ts";
import { type GuestAgent, type GuestVmInfo, startGuestAgent } from "../../src/sim/guest-agent/index.ts";
import { kmsRootKeys, loadOrCreateKeyRoot } from "../../src/sim/guest-agent/key-root.ts";

const dir = mkdtempSync(join(tmpdir(), "guest-agent-"));
const keyRootPath = join(dir, "kms", "root.key");
const compose = JSON.stringify({ manifest_version: 2, name: "web", runner: "docker-compose", docker_compose_file: "services: {}\n" });
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

function vmInfo(o: Partial<GuestVmInfo> = {}): GuestVmInfo {
  const appCompose = o.appCompose ?? compose;
  const composeHash = sha256(appCompose);
  return {
    appId: composeHash.slice(0, 40),
    instanceId: "11".repeat(20),
    composeHash,
    appCompose,
    osImageHash: "ab".repeat(32),
    deviceId: "cd".repeat(32),
    vmName: "web",
    ...o,
  };
}

let seq = 0;
const agents: GuestAgent[] = [];
async function start(vm: GuestVmInfo = vmInfo()) {
  const socketPath = join(dir, `dstack-${seq++}.sock`);
  const agent = await startGuestAgent({ socketPath, vm, keyRootPath });
  agents.push(agent);
  return { agent, client: new DstackClient(socketPath), socketPath };
}

let client: DstackClient;
beforeAll(async () => {
  ({ client } = await start());
});
afterAll(async () => {
  await Promise.all(agents.map((a) => a.close()));
  rmSync(dir, { recursive: true, force: true });
});

describe("DstackClient against the simulated guest agent", () => {
  test("info: app id, instance id, compose hash, os image hash, device id, tcb_info with app compose and event log", async () => {
    const vm = vmInfo();
    const info = await client.info();
    expect(info.app_id).toBe(vm.appId);
    expect(info.instance_id).toBe(vm.instanceId);
    expect(info.compose_hash).toBe(vm.composeHash);
    expect(info.os_image_hash).toBe(vm.osImageHash);
    expect(info.device_id).toBe(vm.deviceId);
    expect(info.app_name).toBe("web");
    const tcb = info.tcb_info as unknown as Record<string, unknown> & { event_log: { event: string; event_payload: string }[] };
    expect(tcb.app_compose).toBe(vm.appCompose);
    expect(tcb.compose_hash).toBe(vm.composeHash);
    const byName = Object.fromEntries(tcb.event_log.map((e) => [e.event, e.event_payload]));
    expect(byName["app-id"]).toBe(vm.appId);
    expect(byName["compose-hash"]).toBe(vm.composeHash);
    expect(byName["instance-id"]).toBe(vm.instanceId);
    expect(byName["os-image-hash"]).toBe(vm.osImageHash);
  });

  test("getKey with each algorithm: a 32-byte key and a signature chain that recovers the host's KMS root", async () => {
    const root = hexOf(k256PublicKey(kmsRootKeys(loadOrCreateKeyRoot(keyRootPath)).k256));
    for (const algorithm of ["secp256k1", "k256", "ed25519"] as const) {
      const k = await client.getKey("wallet/eth", "signing", algorithm);
      expect(k.key.length).toBe(32);
      const chain = verifyKeyChain({
        key: k.key,
        signatureChain: k.signature_chain,
        purpose: "signing",
        algorithm: algorithm === "ed25519" ? "ed25519" : "secp256k1",
        appId: Buffer.from(vmInfo().appId, "hex"),
      });
      expect(hexOf(chain.rootPublicKey)).toBe(root);
    }
  });

  test("the key root file is mode 0600", () => {
    expect(statSync(keyRootPath).mode & 0o777).toBe(0o600);
  });

  test("getQuote: a TDX v4 quote carrying the report data, marked simulated; replayRtmrs equals its RTMRs", async () => {
    const q = await client.getQuote("hello");
    const parsed = parseTdxQuote(Buffer.from(q.quote, "hex"));
    expect(parsed.version).toBe(4);
    expect(parsed.simulated).toBe(true);
    expect(parsed.report.reportData).toBe(Buffer.from("hello").toString("hex").padEnd(128, "0"));
    const r = parsed.report;
    expect(q.replayRtmrs()).toEqual([r.rtmr0, r.rtmr1, r.rtmr2, r.rtmr3]);
  });
});
