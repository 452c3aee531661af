/**
 * X.509 v3 certificates with P-256 keys, signed ECDSA-SHA256 (RFC 6979,
 * deterministic: the same inputs give the same certificate), and the PKCS#8
 * PEM of a P-256 key. Enough for a CA and its leaf certificates, with dstack's
 * RA-TLS extensions (OIDs under 1.3.6.1.4.1.62397.1) carried as opaque octets.
 */
import { createECDH, createHash } from "node:crypto";
import { p256 } from "@noble/curves/p256";
import { sha256Bytes } from "../hash.ts";
import { bitString, bool, explicit, implicit, octets, oid, pem, seq, set, smallInt, time, uint, utf8 } from "./der.ts";

const OID_EC_PUBLIC_KEY = "1.2.840.10045.2.1";
const OID_P256 = "1.2.840.10045.3.1.7";
const OID_ECDSA_SHA256 = "1.2.840.10045.4.3.2";
const OID_CN = "2.5.4.3";
const OID_O = "2.5.4.10";

/** dstack's RA-TLS certificate extensions. */
export const RATLS_OID = {
  tdxQuote: "1.3.6.1.4.1.62397.1.1",
  eventLog: "1.3.6.1.4.1.62397.1.2",
  appId: "1.3.6.1.4.1.62397.1.3",
  certUsage: "1.3.6.1.4.1.62397.1.4",
} as const;

export interface Name {
  commonName: string;
  organization?: string;
}

export interface CertSpec {
  subject: Name;
  /** the certificate's P-256 public key, uncompressed (65 bytes) */
  publicKey: Uint8Array;
  issuer: Name;
  /** the issuer's P-256 secret key (32 bytes); the subject's own for a self-signed certificate */
  issuerKey: Uint8Array;
  serial: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  /** a CA certificate (basicConstraints cA, keyCertSign) */
  ca?: boolean;
  dnsNames?: string[];
  serverAuth?: boolean;
  clientAuth?: boolean;
  /** extra non-critical extensions: OID → raw value, wrapped in an OCTET STRING */
  custom?: [string, Uint8Array][];
}

function name(n: Name): Buffer {
  const rdns = [set(seq(oid(OID_CN), utf8(n.commonName)))];
  if (n.organization) rdns.unshift(set(seq(oid(OID_O), utf8(n.organization))));
  return seq(...rdns);
}

function ext(id: string, value: Uint8Array, critical = false): Buffer {
  return critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value));
}

export function spki(publicKey: Uint8Array): Buffer {
  return seq(seq(oid(OID_EC_PUBLIC_KEY), oid(OID_P256)), bitString(publicKey));
}

function extensions(c: CertSpec): Buffer[] {
  const out: Buffer[] = [];
  if (c.ca) out.push(ext("2.5.29.19", seq(bool(true)), true));
  // keyUsage: digitalSignature (bit 0), plus keyCertSign and cRLSign (bits 5, 6) on a CA
  out.push(ext("2.5.29.15", c.ca ? bitString(Buffer.from([0x86]), 1) : bitString(Buffer.from([0x80]), 7), true));
  const eku = [...(c.serverAuth ? ["1.3.6.1.5.5.7.3.1"] : []), ...(c.clientAuth ? ["1.3.6.1.5.5.7.3.2"] : [])];
  if (eku.length) out.push(ext("2.5.29.37", seq(...eku.map(oid))));
  if (c.dnsNames?.length) out.push(ext("2.5.29.17", seq(...c.dnsNames.map((d) => implicit(2, Buffer.from(d, "ascii"))))));
  const keyId = createHash("sha1").update(c.publicKey).digest();
  out.push(ext("2.5.29.14", octets(keyId)));
  for (const [id, value] of c.custom ?? []) out.push(ext(id, octets(value)));
  return out;
}

/** The DER certificate. */
export function issueCertificate(c: CertSpec): Uint8Array {
  const alg = seq(oid(OID_ECDSA_SHA256));
  const tbs = seq(
    explicit(0, smallInt(2)),
    uint(c.serial),
    alg,
    name(c.issuer),
    seq(time(c.notBefore), time(c.notAfter)),
    name(c.subject),
    spki(c.publicKey),
    explicit(3, seq(...extensions(c))),
  );
  const sig = p256.sign(sha256Bytes(tbs), c.issuerKey).toDERRawBytes();
  return new Uint8Array(seq(tbs, alg, bitString(sig)));
}

export const certificatePem = (der: Uint8Array) => pem("CERTIFICATE", der);

/** The uncompressed public key of a P-256 secret (native: no curve tables to build); throws for an invalid secret. */
export function p256PublicKey(key: Uint8Array): Uint8Array {
  const ecdh = createECDH("prime256v1");
  ecdh.setPrivateKey(key);
  return new Uint8Array(ecdh.getPublicKey());
}

/** PKCS#8 PEM ("PRIVATE KEY") of a P-256 secret, public key included, as rcgen writes it. */
export function p256PrivateKeyPem(key: Uint8Array): string {
  if (key.length !== 32) throw new Error(`a P-256 secret key is 32 bytes, got ${key.length}`);
  const ecPrivateKey = seq(smallInt(1), octets(key), explicit(1, bitString(p256PublicKey(key))));
  return pem("PRIVATE KEY", seq(smallInt(0), seq(oid(OID_EC_PUBLIC_KEY), oid(OID_P256)), octets(ecPrivateKey)));
}
