import { describe, expect, test } from "bun:test";
import { createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { certificatePem, issueCertificate, p256PrivateKeyPem, p256PublicKey, RATLS_OID } from "../../../src/core/x509/cert.ts";
import { oid, time, uint } from "../../../src/core/x509/der.ts";

const caKey = new Uint8Array(32).fill(7);
const leafKey = new Uint8Array(32).fill(9);
const ca = { commonName: "Test CA", organization: "Test" };
const caSpec = {
  subject: ca,
  issuer: ca,
  publicKey: p256PublicKey(caKey),
  issuerKey: caKey,
  serial: new Uint8Array([1]),
  notBefore: new Date(Date.UTC(1975, 0, 1)),
  notAfter: new Date(Date.UTC(4096, 0, 1)),
  ca: true,
};
const leafSpec = {
  subject: { commonName: "app.example" },
  issuer: ca,
  publicKey: p256PublicKey(leafKey),
  issuerKey: caKey,
  serial: new Uint8Array([0x80, 2]),
  notBefore: new Date(Date.UTC(2024, 0, 1)),
  notAfter: new Date(Date.UTC(2030, 0, 1)),
  dnsNames: ["a.app.example", "b.app.example"],
  serverAuth: true,
  clientAuth: true,
  custom: [[RATLS_OID.appId, new Uint8Array(20).fill(0xab)]] as [string, Uint8Array][],
};

describe("DER", () => {
  test("OIDs, integers (minimal, positive), times (UTCTime before 2050, GeneralizedTime after)", () => {
    expect(oid("1.2.840.10045.2.1").toString("hex")).toBe("06072a8648ce3d0201");
    expect(uint(Buffer.from([0, 0, 5])).toString("hex")).toBe("020105");
    expect(uint(Buffer.from([0x80])).toString("hex")).toBe("02020080");
    expect(time(new Date(Date.UTC(2024, 0, 2, 3, 4, 5))).toString("latin1")).toBe("\x17\x0d240102030405Z");
    expect(time(new Date(Date.UTC(4096, 0, 1))).toString("latin1")).toBe("\x18\x0f40960101000000Z");
  });
});

describe("certificates", () => {
  const caPem = certificatePem(issueCertificate(caSpec));
  const leafPem = certificatePem(issueCertificate(leafSpec));
  const [c, l] = [new X509Certificate(caPem), new X509Certificate(leafPem)];

  test("a self-signed CA and a leaf it signs, as node's X.509 reads them", () => {
    expect(c.verify(c.publicKey)).toBe(true);
    expect(c.ca).toBe(true);
    expect(l.verify(c.publicKey)).toBe(true);
    expect(l.checkIssued(c)).toBe(true);
    expect(l.ca).toBe(false);
    expect(l.subject).toBe("CN=app.example");
    expect(l.issuer).toBe("O=Test\nCN=Test CA");
    expect(l.subjectAltName).toBe("DNS:a.app.example, DNS:b.app.example");
    expect(l.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]);
    expect(l.serialNumber).toBe("8002");
    expect(new Date(l.validTo).toISOString()).toBe("2030-01-01T00:00:00.000Z");
    expect(new Date(c.validTo).getUTCFullYear()).toBe(4096);
    expect(Buffer.from(l.raw).includes(Buffer.alloc(20, 0xab))).toBe(true);
  });

  test("deterministic: the same inputs make the same certificate", () => {
    expect(certificatePem(issueCertificate(caSpec))).toBe(caPem);
  });

  test("openssl verifies the chain", () => {
    const d = mkdtempSync(join(tmpdir(), "x509-"));
    try {
      writeFileSync(join(d, "ca.pem"), caPem);
      writeFileSync(join(d, "leaf.pem"), leafPem);
      const r = Bun.spawnSync(["openssl", "verify", "-CAfile", join(d, "ca.pem"), join(d, "leaf.pem")], { stdout: "pipe", stderr: "pipe" });
      expect(r.stdout.toString().trim()).toBe(`${join(d, "leaf.pem")}: OK`);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  test("the PKCS#8 PEM is the key of the certificate", () => {
    const k = createPrivateKey(p256PrivateKeyPem(leafKey));
    expect(k.asymmetricKeyType).toBe("ec");
    expect(createPublicKey(k).export({ type: "spki", format: "der" })).toEqual(l.publicKey.export({ type: "spki", format: "der" }));
    expect(() => p256PrivateKeyPem(new Uint8Array(31))).toThrow("32 bytes");
  });
});
