/**
 * TLS certificates as the simulated KMS signs them for a guest: the leaf (P-256)
 * issued by the host's simulated KMS root CA, chain [leaf, root CA]. Like the
 * real KMS's SignCert it carries the app id and the usage "app:custom"; an
 * RA-TLS leaf also carries a (simulated) quote whose report data is
 * sha512("ratls-cert:" ‖ the leaf's SubjectPublicKeyInfo) and the event log.
 * The root CA certificate is deterministic: the same on every start of every
 * agent of the host.
 *
 * Upstream: Dstack-TEE/dstack: dstack/ra-tls/src/cert.rs, dstack/ra-tls/src/oids.rs, dstack/cert-client/src/lib.rs.
 */
import { createHash, randomBytes } from "node:crypto";
import { sha256Bytes } from "../../../core/hash.ts";
import { certificatePem, issueCertificate, type Name, p256PrivateKeyPem, p256PublicKey, RATLS_OID, spki } from "../../../core/x509/cert.ts";
import type { GuestState } from "../attestation/state.ts";

/** rcgen's defaults, which dstack's certificates keep unless told otherwise */
const DEFAULT_NOT_BEFORE = new Date(Date.UTC(1975, 0, 1));
const DEFAULT_NOT_AFTER = new Date(Date.UTC(4096, 0, 1));
const CA_NAME: Name = { commonName: "dstack-vmm-sim KMS root CA (simulated)", organization: "dstack-vmm-sim" };

export interface LeafRequest {
  /** the leaf's P-256 secret */
  key: Uint8Array;
  subject: string;
  altNames: string[];
  raTls: boolean;
  serverAuth: boolean;
  clientAuth: boolean;
  /** seconds since the epoch */
  notBefore?: number;
  notAfter?: number;
}

function rootCaPem(caKey: Uint8Array): string {
  const publicKey = p256PublicKey(caKey);
  const der = issueCertificate({
    subject: CA_NAME,
    issuer: CA_NAME,
    publicKey,
    issuerKey: caKey,
    serial: sha256Bytes(publicKey).subarray(0, 16),
    notBefore: DEFAULT_NOT_BEFORE,
    notAfter: DEFAULT_NOT_AFTER,
    ca: true,
  });
  return certificatePem(der);
}

function serial(): Uint8Array {
  const s = randomBytes(16);
  s[0] = (s[0]! & 0x7f) | 0x01;
  return s;
}

function issueLeaf(s: GuestState, caPem: string, r: LeafRequest): { key: string; certificate_chain: string[] } {
  if (r.notBefore !== undefined && r.notAfter !== undefined && r.notBefore >= r.notAfter)
    throw new Error("not_before must be earlier than not_after");
  const publicKey = p256PublicKey(r.key);
  const custom: [string, Uint8Array][] = [
    [RATLS_OID.appId, Buffer.from(s.vm.appId, "hex")],
    [RATLS_OID.certUsage, Buffer.from("app:custom")],
  ];
  if (r.raTls) {
    const reportData = createHash("sha512").update("ratls-cert:").update(spki(publicKey)).digest();
    custom.push([RATLS_OID.tdxQuote, s.quote(reportData).quote], [RATLS_OID.eventLog, Buffer.from(s.eventLogJson())]);
  }
  const der = issueCertificate({
    subject: { commonName: r.subject },
    issuer: CA_NAME,
    publicKey,
    issuerKey: s.root.ca,
    serial: serial(),
    notBefore: r.notBefore !== undefined ? new Date(r.notBefore * 1000) : DEFAULT_NOT_BEFORE,
    notAfter: r.notAfter !== undefined ? new Date(r.notAfter * 1000) : DEFAULT_NOT_AFTER,
    dnsNames: r.altNames,
    serverAuth: r.serverAuth,
    clientAuth: r.clientAuth,
    custom,
  });
  return { key: p256PrivateKeyPem(r.key), certificate_chain: [certificatePem(der), caPem] };
}

/** A fresh random P-256 secret (GetTlsKey's keys are random, not derived). */
export const randomP256Key = (): Uint8Array => {
  for (;;) {
    const k = randomBytes(32);
    try {
      p256PublicKey(k);
      return k;
    } catch {
      /* not a valid scalar (probability 2^-32): draw again */
    }
  }
};

/** One agent's certificate authority: the root CA certificate and the demo app cert made when first asked for. */
export class GuestCa {
  #caPem?: string;
  #demo?: string;
  #demoPending = false;
  constructor(readonly state: GuestState) {}

  get caPem(): string {
    this.#caPem ??= rootCaPem(this.state.root.ca);
    return this.#caPem;
  }

  issue(r: LeafRequest) {
    return issueLeaf(this.state, this.caPem, r);
  }

  /**
   * Info's app_cert: an RA-TLS client certificate the guest requests for itself (the
   * chain as one PEM text). As on a real guest it is "" until the request is done: the
   * first ask starts it after the answer, so Info stays quick (the SDK's isReachable
   * gives it 500 ms).
   */
  demoCert(): string {
    if (this.#demo === undefined && !this.#demoPending) {
      this.#demoPending = true;
      setTimeout(() => {
        try {
          const chain = this.issue({
            key: randomP256Key(),
            subject: "demo-cert",
            altNames: [],
            raTls: true,
            serverAuth: false,
            clientAuth: true,
          });
          this.#demo = chain.certificate_chain.join("\n");
        } catch {
          /* tried again at the next Info: never thrown from a timer */
        }
        this.#demoPending = false;
      }, 0);
    }
    return this.#demo ?? "";
  }
}
