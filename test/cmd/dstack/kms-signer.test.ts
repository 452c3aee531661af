/**
 * `dstack run -e` seals secrets only to an env key signed by the trusted KMS signer
 * (--kms-signer / DSTACK_KMS_SIGNER / the install state). A proxy in front of the simulator
 * plays a VMM whose KMS answer was tampered with or stripped of its signature.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signerOfKey } from "../../../src/core/keys/env-key-signature.ts";
import { connectVmm } from "../../../src/core/vmm/client.ts";
import { kmsRootKeys } from "../../../src/sim/guest-agent/attestation/key-root.ts";
import { runCli } from "../../helpers/cli.ts";
import { startSim, type TestSim } from "../../helpers/sim.ts";

let sim: TestSim;
let signer = "";
const OTHER = signerOfKey(new Uint8Array(32).fill(5));
const allowlist = join(mkdtempSync(join(tmpdir(), "kms-signer-")), "allow.json");
let rewrite: (body: Record<string, unknown>) => Record<string, unknown> = (b) => b;

/** A VMM in front of the simulator that rewrites its GetAppEnvEncryptPubKey answers. */
const proxy = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req) {
    const url = new URL(req.url);
    const r = await fetch(`http://127.0.0.1:${new URL(sim.host).port}${url.pathname}${url.search}`, {
      method: req.method,
      headers: req.headers,
      body: await req.arrayBuffer(),
    });
    if (!url.pathname.endsWith("GetAppEnvEncryptPubKey") || !r.ok) return r;
    return Response.json(rewrite((await r.json()) as Record<string, unknown>));
  },
});

beforeAll(() => {
  writeFileSync(allowlist, '{"apps": {}}\n');
  sim = startSim({ tcp: true, token: "t0k" });
  signer = signerOfKey(kmsRootKeys(new Uint8Array(readFileSync(join(sim.dir, "vm", ".sim-kms-root")))).k256);
});
afterAll(async () => {
  proxy.stop(true);
  await sim.stop();
});

let n = 0;
const run = (host: string, extra: string[], env: Record<string, string> = {}) =>
  runCli(
    "dstack",
    [
      "run",
      "alpine",
      "-n",
      `s${n++}`,
      "-e",
      "API_KEY=s3cret",
      "--detach",
      "--guest-image",
      "dstack-0.5.5",
      "--allowlist",
      allowlist,
      "--host",
      host,
      "--token",
      "t0k",
      ...extra,
    ],
    { env },
  );
const direct = () => sim.host;
const viaProxy = () => `http://127.0.0.1:${proxy.port}`;

describe("the KMS signer of the env key", () => {
  test("a key signed by the pinned signer is used (flag or DSTACK_KMS_SIGNER)", async () => {
    const r = await run(direct(), ["--kms-signer", signer]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    expect((await run(direct(), [], { DSTACK_KMS_SIGNER: signer.slice(2).toUpperCase() })).code).toBe(0);
  });

  test("no known signer for a remote host: refused, nothing created", async () => {
    const c = await connectVmm({ host: sim.host, token: "t0k" });
    const before = (await c.status({})).vms.length;
    const r = await run(direct(), []);
    expect(r.code).toBe(4);
    expect((await c.status({})).vms.length).toBe(before);
    c.close();
    expect(r.stderr).toContain("no trusted KMS signer");
    expect(r.stderr).toContain("--kms-signer");
  });

  test("a key signed by another KMS: refused, naming both signers", async () => {
    const r = await run(direct(), ["--kms-signer", OTHER]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`signed by ${signer}, not by the trusted KMS signer ${OTHER}`);
  });

  test("a tampered key or a missing signature: refused, naming the signer", async () => {
    rewrite = (b) => ({ ...b, public_key: "11".repeat(32) });
    const tampered = await run(viaProxy(), ["--kms-signer", signer]);
    expect(tampered.code).toBe(4);
    expect(tampered.stderr).toContain(`not by the trusted KMS signer ${signer}`);
    rewrite = (b) => ({ ...b, signature: "", signature_v1: "" });
    const missing = await run(viaProxy(), ["--kms-signer", signer]);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain(`not validly signed by the KMS signer ${signer}: the answer carries no signature`);
    rewrite = (b) => b;
    expect((await run(viaProxy(), ["--kms-signer", signer])).code).toBe(0);
  });

  test("a pinned signer that is not a key is a usage error", async () => {
    const r = await run(direct(), ["--kms-signer", "0xnope"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--kms-signer");
  });
});
