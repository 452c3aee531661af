/**
 * The simulated guest agent against its peer, @phala/dstack-sdk's DstackClient
 * and TappdClient, on temp unix sockets.
 */
import { afterAll, beforeAll, describe, expect, spyOn, test } from "bun:test";
import { createHash, createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DstackClient, TappdClient } from "@phala/dstack-sdk";
import { hexOf } from "../../src/core/keys/hex.ts";
import { k256PublicKey } from "../../src/core/keys/k256.ts";
import { verifyKeyChain } from "../../src/core/keys/key-chain.ts";
import { decodeTdxAttestationV0 } from "../../src/core/tdx/attestation.ts";
import { replayRtmrs, type TdxEvent } from "../../src/core/tdx/eventlog.ts";
import { mrAggregatedOf } from "../../src/core/tdx/measurements.ts";
import { parseTdxQuote } from "../../src/core/tdx/quote.ts";
import { checkQuote } from "../../src/core/tdx/verify.ts";
import { p256PublicKey, spki } from "../../src/core/x509/cert.ts";
import { kmsRootKeys, loadOrCreateKeyRoot } from "../../src/sim/guest-agent/attestation/key-root.ts";
import { type GuestAgent, type GuestVmInfo, startGuestAgent } from "../../src/sim/guest-agent/index.ts";

const dir = mkdtempSync(join(tmpdir(), "guest-agent-"));
const keyRootPath = join(dir, "kms", "root.key");
const compose = JSON.stringify({ manifest_version: 2, name: "web", runner: "docker-compose", docker_compose_file: "services: {}\n" });
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
const warn = spyOn(console, "warn").mockImplementation(() => {}); // TappdClient says it is deprecated

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
async function start(vm: GuestVmInfo = vmInfo(), root = keyRootPath) {
  const socketPath = join(dir, `dstack-${seq}.sock`);
  const legacySocketPath = join(dir, `tappd-${seq++}.sock`);
  const agent = await startGuestAgent({ socketPath, legacySocketPath, vm, keyRootPath: root });
  agents.push(agent);
  return { agent, client: new DstackClient(socketPath), tappd: new TappdClient(legacySocketPath), socketPath, legacySocketPath };
}

const post = async (socket: string, path: string, body: unknown) => {
  const r = await fetch(`http://dstack${path}`, {
    unix: socket,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
};

const rootPublicKey = () => hexOf(k256PublicKey(kmsRootKeys(loadOrCreateKeyRoot(keyRootPath)).k256));
const rtmrsOf = (quoteHex: string): [string, string, string, string] => {
  const r = parseTdxQuote(Buffer.from(quoteHex, "hex")).report;
  return [r.rtmr0, r.rtmr1, r.rtmr2, r.rtmr3];
};
const pubDer = (k: KeyObject) => (k.type === "public" ? k : createPublicKey(k)).export({ type: "spki", format: "der" });

let main: Awaited<ReturnType<typeof start>>;
let client: DstackClient;
beforeAll(async () => {
  main = await start();
  client = main.client;
});
afterAll(async () => {
  await Promise.all(agents.map((a) => a.close()));
  warn.mockRestore();
  rmSync(dir, { recursive: true, force: true });
});

describe("DstackClient: info and version", () => {
  test("app id, instance id, compose hash, os image hash, device id; tcb_info with the app compose and the event log it replays to", async () => {
    const vm = vmInfo();
    const info = await client.info();
    expect(info).toMatchObject({
      app_id: vm.appId,
      instance_id: vm.instanceId,
      compose_hash: vm.composeHash,
      os_image_hash: vm.osImageHash,
      device_id: vm.deviceId,
      app_name: "web",
    });
    const caSpki = hexOf(spki(p256PublicKey(kmsRootKeys(loadOrCreateKeyRoot(keyRootPath)).ca)));
    expect(JSON.parse(info.key_provider_info)).toEqual({ name: "kms", id: caSpki });
    const tcb = info.tcb_info as unknown as Record<string, string> & { event_log: TdxEvent[] };
    expect(tcb.app_compose).toBe(vm.appCompose);
    expect(tcb.compose_hash).toBe(vm.composeHash);
    expect(tcb.os_image_hash).toBe(vm.osImageHash);
    const byName = Object.fromEntries(tcb.event_log.map((e) => [e.event, e.event_payload]));
    expect(byName["app-id"]).toBe(vm.appId);
    expect(byName["compose-hash"]).toBe(vm.composeHash);
    expect(byName["instance-id"]).toBe(vm.instanceId);
    expect(byName["os-image-hash"]).toBe(vm.osImageHash);
    expect([tcb.rtmr0, tcb.rtmr1, tcb.rtmr2, tcb.rtmr3]).toEqual(replayRtmrs(tcb.event_log));
    expect(info.mr_aggregated).toBe(
      mrAggregatedOf({ mrTd: tcb.mrtd!, rtmr0: tcb.rtmr0!, rtmr1: tcb.rtmr1!, rtmr2: tcb.rtmr2!, rtmr3: tcb.rtmr3! }),
    );
    expect(JSON.parse(info.vm_config!).os_image_hash).toBe(vm.osImageHash);
  });

  test("app_cert: '' at first, as on a real guest, then an RA-TLS client certificate chain up to the simulated KMS root CA", async () => {
    const fresh = await start();
    expect((await fresh.client.info()).app_cert).toBe("");
    let cert = "";
    for (let i = 0; i < 100 && !cert; i++) {
      await Bun.sleep(10);
      cert = (await fresh.client.info()).app_cert;
    }
    const certs = cert.split(/(?<=-----END CERTIFICATE-----\n)/).filter((s) => s.trim());
    expect(certs.length).toBe(2);
    const [leaf, ca] = certs.map((c) => new X509Certificate(c));
    expect(leaf!.verify(ca!.publicKey)).toBe(true);
    expect(leaf!.subject).toBe("CN=demo-cert");
  });

  test("version answers, so the SDK allows ed25519 and the newer TLS options", async () => {
    expect((await client.version()).version).toBe("0.5.8");
    expect(await client.isReachable()).toBe(true);
  });
});

describe("DstackClient: getKey", () => {
  test("each algorithm the SDK supports: 32 bytes and a signature chain that recovers the host's KMS root", async () => {
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
      expect(hexOf(chain.rootPublicKey)).toBe(rootPublicKey());
    }
    await expect(client.getKey("p", "", "rsa")).rejects.toThrow();
  });

  test("deterministic per app id and path; the same across restarts and across VMs of one app; different across apps", async () => {
    const k = async (c: DstackClient, path = "a/b", purpose = "x") => hexOf((await c.getKey(path, purpose)).key);
    const first = await k(client);
    const restarted = await start(); // a new agent for the same VM: a restart
    expect(await k(restarted.client)).toBe(first);
    const sibling = await start(vmInfo({ instanceId: "22".repeat(20), vmName: "web-2" }));
    expect(await k(sibling.client)).toBe(first);
    const other = await start(vmInfo({ appCompose: JSON.stringify({ name: "other" }) }));
    expect(await k(other.client)).not.toBe(first);
    expect(await k(client, "a/c")).not.toBe(first);
    // the purpose goes into the signature chain, not the key; the algorithm only says how to read the bytes
    expect(await k(client, "a/b", "y")).toBe(first);
    expect(hexOf((await client.getKey("a/b", "x", "ed25519")).key)).toBe(first);
    const s1 = await client.getKey("a/b", "x");
    const s2 = await client.getKey("a/b", "y");
    expect(hexOf(s1.signature_chain[0]!)).not.toBe(hexOf(s2.signature_chain[0]!));
    expect(hexOf(s1.signature_chain[1]!)).toBe(hexOf(s2.signature_chain[1]!));
  });

  test("another host (another KMS root) gives other keys", async () => {
    const elsewhere = await start(vmInfo(), join(dir, "other-host", "root.key"));
    expect(hexOf((await elsewhere.client.getKey("a/b")).key)).not.toBe(hexOf((await client.getKey("a/b")).key));
  });

  test("the key root file is 32 bytes, mode 0600", () => {
    const st = statSync(keyRootPath);
    expect(st.mode & 0o777).toBe(0o600);
    expect(st.size).toBe(32);
  });
});

describe("DstackClient: quotes", () => {
  test("getQuote: a simulated TDX v4 quote carrying the report data; replayRtmrs equals its RTMRs", async () => {
    const q = await client.getQuote("hello");
    const parsed = parseTdxQuote(Buffer.from(q.quote, "hex"));
    expect(parsed.version).toBe(4);
    expect(parsed.simulated).toBe(true);
    expect([parsed.report.tdAttributes, parsed.report.xfam]).toEqual(["0000001000000000", "e702060000000000"]); // a real guest's
    expect(parsed.report.reportData).toBe(Buffer.from("hello").toString("hex").padEnd(128, "0"));
    expect(q.report_data).toBe(parsed.report.reportData);
    expect(q.replayRtmrs()).toEqual(rtmrsOf(q.quote));
    // what a relying party can check without Intel: the app identity the log measured
    const vm = vmInfo();
    expect(checkQuote(Buffer.from(q.quote, "hex"), JSON.parse(q.event_log), Buffer.from("hello"))).toMatchObject({
      simulated: true,
      appId: vm.appId,
      composeHash: vm.composeHash,
      instanceId: vm.instanceId,
      osImageHash: vm.osImageHash,
      mrAggregated: (await client.info()).mr_aggregated,
    });
  });

  test("64 bytes of report data is the most: the SDK refuses more, and so does the agent (400, as upstream)", async () => {
    const full = await client.getQuote(Buffer.alloc(64, 7));
    expect(parseTdxQuote(Buffer.from(full.quote, "hex")).report.reportData).toBe("07".repeat(64));
    await expect(client.getQuote(Buffer.alloc(65))).rejects.toThrow("too large");
    expect(await post(main.socketPath, "/GetQuote", { report_data: "00".repeat(65) })).toEqual({
      status: 400,
      body: { error: "Report data is too long" },
    });
    expect((await post(main.socketPath, "/Attest", { report_data: "00".repeat(65) })).status).toBe(400);
  });

  test("emitEvent extends RTMR3 and appends to the log; the next quote replays to the new RTMRs", async () => {
    const { client: c } = await start();
    const before = await c.getQuote("x");
    await c.emitEvent("my-app-config", "v1");
    const after = await c.getQuote("x");
    const [b, a] = [rtmrsOf(before.quote), rtmrsOf(after.quote)];
    expect(a.slice(0, 3)).toEqual(b.slice(0, 3));
    expect(a[3]).not.toBe(b[3]);
    expect(after.replayRtmrs()).toEqual(a);
    const last = (JSON.parse(after.event_log) as TdxEvent[]).at(-1)!;
    expect(last).toMatchObject({
      imr: 3,
      event_type: 0x08000001,
      event: "my-app-config",
      event_payload: Buffer.from("v1").toString("hex"),
    });
    const tcb = (await c.info()).tcb_info as unknown as Record<string, string>;
    expect(tcb.rtmr3).toBe(a[3]!);
    await expect(c.emitEvent("", "x")).rejects.toThrow("empty");
  });

  test("attest: dstack's legacy versioned attestation with the quote, the event log, the report data and vm_config", async () => {
    const r = await client.attest("att");
    const a = decodeTdxAttestationV0(Buffer.from(r.attestation, "hex"));
    const q = parseTdxQuote(a.quote);
    expect(q.simulated).toBe(true);
    expect(hexOf(a.reportData)).toBe(Buffer.from("att").toString("hex").padEnd(128, "0"));
    expect(q.report.reportData).toBe(hexOf(a.reportData));
    expect(replayRtmrs(a.eventLog)).toEqual(rtmrsOf(hexOf(a.quote)));
    expect(a.runtimeEvents.map((e) => e.event)).toContain("compose-hash");
    expect(JSON.parse(a.config).os_image_hash).toBe(vmInfo().osImageHash);
  });
});

describe("DstackClient: TLS keys and signing", () => {
  test("getTlsKey: a P-256 key and a certificate chain to the simulated KMS root CA, with the SANs and an RA-TLS quote over the key", async () => {
    const r = await client.getTlsKey({
      subject: "app.example",
      altNames: ["a.app.example", "b.app.example"],
      usageRaTls: true,
      usageClientAuth: true,
    });
    expect(r.certificate_chain.length).toBe(2);
    const [leaf, ca] = r.certificate_chain.map((c) => new X509Certificate(c));
    expect(leaf!.verify(ca!.publicKey)).toBe(true);
    expect(ca!.verify(ca!.publicKey)).toBe(true);
    expect(ca!.ca).toBe(true);
    expect(leaf!.subject).toBe("CN=app.example");
    expect(leaf!.subjectAltName).toBe("DNS:a.app.example, DNS:b.app.example");
    expect(pubDer(createPrivateKey(r.key))).toEqual(pubDer(leaf!.publicKey));
    expect(r.asUint8Array(32).length).toBe(32);
    // the RA-TLS quote's report data is sha512("ratls-cert:" ‖ SubjectPublicKeyInfo)
    const expected = createHash("sha512").update("ratls-cert:").update(pubDer(leaf!.publicKey)).digest("hex");
    expect(Buffer.from(leaf!.raw).includes(Buffer.from(expected, "hex"))).toBe(true);
    // a fresh key each time, the same root CA
    const again = await client.getTlsKey({ subject: "app.example" });
    expect(again.key).not.toBe(r.key);
    expect(again.certificate_chain[1]).toBe(r.certificate_chain[1]!);
  });

  test("getTlsKey validity options; not_before must precede not_after", async () => {
    const r = await client.getTlsKey({ subject: "v", notBefore: 1_700_000_000, notAfter: 1_800_000_000 });
    expect(new Date(new X509Certificate(r.certificate_chain[0]!).validTo).getTime()).toBe(1_800_000_000_000);
    expect((await post(main.socketPath, "/GetTlsKey", { subject: "v", not_before: 2, not_after: 1 })).body.error).toBe(
      "not_before must be earlier than not_after",
    );
  });

  test("sign and verify with each algorithm; the signature chain ends at the host's KMS root", async () => {
    for (const algorithm of ["ed25519", "secp256k1"]) {
      const s = await client.sign(algorithm, "message");
      expect(s.signature_chain.length).toBe(3);
      expect((await client.verify(algorithm, "message", s.signature, s.public_key)).valid).toBe(true);
      expect((await client.verify(algorithm, "tampered", s.signature, s.public_key)).valid).toBe(false);
    }
    const digest = createHash("sha256").update("m").digest();
    const p = await client.sign("secp256k1_prehashed", digest);
    expect((await client.verify("secp256k1_prehashed", digest, p.signature, p.public_key)).valid).toBe(true);
    await expect(client.sign("secp256k1_prehashed", Buffer.alloc(31))).rejects.toThrow("32-byte digest");
  });
});

describe("TappdClient on the legacy socket", () => {
  test("deriveKey: a P-256 key derived from the app key and path (the same on every call), with a certificate chain", async () => {
    const a = await main.tappd.deriveKey("/keys/tls", "svc.example");
    const b = await main.tappd.deriveKey("/keys/tls", "svc.example");
    const c = await main.tappd.deriveKey("/keys/other");
    expect(a.key).toBe(b.key);
    expect(c.key).not.toBe(a.key);
    const [leaf, ca] = a.certificate_chain.map((x) => new X509Certificate(x));
    expect(leaf!.verify(ca!.publicKey)).toBe(true);
    expect(pubDer(createPrivateKey(a.key))).toEqual(pubDer(leaf!.publicKey));
  });

  test("tdxQuote: report data sha512('app-data:' ‖ data) by default, or raw; replayRtmrs equals the quote's RTMRs", async () => {
    const q = await main.tappd.tdxQuote("hello");
    expect(q).toMatchObject({ hash_algorithm: "sha512", prefix: "app-data" });
    const expected = createHash("sha512").update("app-data:hello").digest("hex");
    expect(parseTdxQuote(Buffer.from(q.quote, "hex")).report.reportData).toBe(expected);
    expect(q.replayRtmrs()).toEqual(rtmrsOf(q.quote));
    const raw = await main.tappd.tdxQuote("raw!", "raw");
    expect(parseTdxQuote(Buffer.from(raw.quote, "hex")).report.reportData).toBe(Buffer.from("raw!").toString("hex").padStart(128, "0"));
    const k = await main.tappd.tdxQuote("hello", "keccak256");
    expect(k).toMatchObject({ hash_algorithm: "keccak256", prefix: "app-data" });
    expect(await main.tappd.isReachable()).toBe(true);
  });

  test("Tappd.Info and DeriveK256Key answer under /prpc/; a bad hash algorithm is a 400", async () => {
    const info = await post(main.legacySocketPath, "/prpc/Tappd.Info", {});
    expect(info.body.app_id).toBe(vmInfo().appId);
    const k = await post(main.legacySocketPath, "/prpc/DeriveK256Key", { path: "a/b", purpose: "x" });
    expect(k.body.k256_key).toBe(hexOf((await client.getKey("a/b", "x")).key));
    expect((await post(main.legacySocketPath, "/prpc/Tappd.TdxQuote", { report_data: "00", hash_algorithm: "md5" })).body).toEqual({
      error: "invalid hash algorithm",
    });
  });
});

describe("the wire", () => {
  test("GET takes the arguments from the query string, as curl examples do", async () => {
    const r = await fetch("http://dstack/GetQuote?report_data=abcd", { unix: main.socketPath });
    expect(((await r.json()) as { report_data: string }).report_data).toBe("abcd".padEnd(128, "0"));
    const k = await fetch("http://dstack/GetKey?path=a/b&purpose=x&algorithm=ed25519", { unix: main.socketPath });
    expect(((await k.json()) as { key: string }).key).toBe(hexOf((await client.getKey("a/b", "x")).key));
  });

  test("errors are 400 with {error}; unknown paths 404; malformed JSON and bad hex are errors", async () => {
    expect(await post(main.socketPath, "/NoSuchMethod", {})).toEqual({ status: 400, body: { error: "method not found: NoSuchMethod" } });
    expect((await post(main.socketPath, "/prpc/GetKey", {})).status).toBe(404);
    expect((await post(main.socketPath, "/GetQuote", { report_data: "xyz" })).body.error).toContain("hex");
    const bad = await fetch("http://dstack/GetKey", { unix: main.socketPath, method: "POST", body: "{" });
    expect(bad.status).toBe(400);
    // the dstack API is not served on the legacy socket, nor tappd's on dstack.sock
    expect((await post(main.legacySocketPath, "/GetKey", {})).status).toBe(404);
    expect((await post(main.socketPath, "/TdxQuote", {})).status).toBe(400);
  });

  test("a body over ra-rpc's 10 MiB limit is refused (413)", async () => {
    const r = await fetch("http://dstack/EmitEvent", {
      unix: main.socketPath,
      method: "POST",
      body: JSON.stringify({ event: "x", payload: "00".repeat(5.5 * 1024 * 1024) }),
    });
    expect(r.status).toBe(413);
  });

  test("the sockets are mode 0777, as the guest's socket unit makes them (non-root containers connect too)", () => {
    expect(statSync(main.socketPath).mode & 0o777).toBe(0o777);
    expect(statSync(main.legacySocketPath).mode & 0o777).toBe(0o777);
  });

  test("a new agent on the same sockets while the old one closes (a restart that does not wait): the old close leaves the new sockets", async () => {
    const socketPath = join(dir, "restart.sock");
    const legacySocketPath = join(dir, "restart-tappd.sock");
    const old = await startGuestAgent({ socketPath, legacySocketPath, vm: vmInfo(), keyRootPath });
    const closing = old.close();
    const next = await startGuestAgent({ socketPath, legacySocketPath, vm: vmInfo(), keyRootPath });
    agents.push(next);
    await closing;
    expect((await new DstackClient(socketPath).info()).app_id).toBe(vmInfo().appId);
    expect(statSync(legacySocketPath).isSocket()).toBe(true);
  });

  test("close removes both sockets", async () => {
    const s = await start();
    await s.agent.close();
    expect(() => statSync(s.socketPath)).toThrow();
    expect(() => statSync(s.legacySocketPath)).toThrow();
  });
});
