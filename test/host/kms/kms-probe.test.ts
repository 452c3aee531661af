/**
 * The KMS probe of `dstackup install` (real mode): GetMeta over HTTPS with the
 * KMS's own (self-signed) certificate must answer a non-empty ca_cert. It
 * retries while the service is starting, and fails with the reason.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setKnobs } from "../../../src/core/knobs.ts";
import { probeKms } from "../../../src/host/kms/kms.ts";

const dir = mkdtempSync(join(tmpdir(), "kms-tls-"));
let cert = "";
let key = "";
let mode: "ok" | "empty" | "starting" = "ok";
let calls = 0;
let server: ReturnType<typeof Bun.serve>;

beforeAll(() => {
  const r = Bun.spawnSync([
    "openssl",
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=kms",
    "-keyout",
    join(dir, "key.pem"),
    "-out",
    join(dir, "cert.pem"),
  ]);
  if (r.exitCode !== 0) throw new Error(`openssl: ${r.stderr.toString()}`);
  cert = readFileSync(join(dir, "cert.pem"), "utf8");
  key = readFileSync(join(dir, "key.pem"), "utf8");
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    tls: { cert, key },
    fetch(req) {
      calls++;
      if (new URL(req.url).pathname !== "/prpc/GetMeta") return new Response("no", { status: 404 });
      if (mode === "starting" && calls < 3) return new Response("starting", { status: 503 });
      return Response.json({
        ca_cert: mode === "empty" ? "" : cert,
        allow_any_upgrade: false,
        k256_pubkey: "",
        bootstrap_info: null,
        is_dev: false,
      });
    },
  });
});
afterAll(() => {
  server.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

describe("probeKms", () => {
  // retries every 50 ms instead of 500: what is checked is that it retries, not how patiently
  beforeAll(() => setKnobs({ pollMs: 50 }));
  afterAll(() => setKnobs({}));

  test("a KMS that answers GetMeta with its CA over self-signed TLS passes", async () => {
    mode = "ok";
    expect(await probeKms(server.port!, 5000)).toBe("KMS GetMeta answered with a CA certificate");
  });

  test("it keeps asking while the service starts", async () => {
    mode = "starting";
    calls = 0;
    expect(await probeKms(server.port!, 10_000)).toBe("KMS GetMeta answered with a CA certificate");
    expect(calls).toBe(3);
  });

  test("no CA certificate, or nothing listening, fails with the reason after the timeout", async () => {
    mode = "empty";
    await expect(probeKms(server.port!, 600)).rejects.toThrow("GetMeta answered without a ca_cert");
    const t0 = performance.now();
    await expect(probeKms(1, 1200)).rejects.toThrow();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(500);
  });
});
