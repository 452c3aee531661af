import { describe, expect, test } from "bun:test";
import { secp256k1 } from "@noble/curves/secp256k1";
import { verifyEnvEncryptPublicKey } from "@phala/dstack-sdk";
import { RefusedError } from "../../../src/core/errors.ts";
import { envKeySigner, parseSigner, signEnvKey, signerOfKey, trustedEnvKey } from "../../../src/core/keys/env-key-signature.ts";

const KEY = new Uint8Array(32).fill(7);
const OTHER = new Uint8Array(32).fill(9);
const APP = "12".repeat(20);
const PK = "ab".repeat(32);
const NOW = 1_800_000_000;
const SIGNER = signerOfKey(KEY);

function refusal(f: () => unknown): RefusedError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(RefusedError);
    expect((e as RefusedError).exitCode).toBe(4);
    return e as RefusedError;
  }
  throw new Error("not refused");
}

describe("env key signatures", () => {
  test("a key signed by the trusted signer is accepted, and the SDK recovers the same signer", () => {
    const r = signEnvKey(KEY, APP, PK, NOW);
    expect(trustedEnvKey(r, APP, SIGNER, NOW + 10)).toBe(PK);
    const now = Math.floor(Date.now() / 1000);
    const fresh = signEnvKey(KEY, `0x${APP}`, PK, now);
    expect(verifyEnvEncryptPublicKey(Buffer.from(PK, "hex"), Buffer.from(fresh.signature_v1, "hex"), APP, now)).toBe(SIGNER);
    // legacy only (an older KMS)
    expect(envKeySigner({ public_key: PK, signature: r.signature }, APP, NOW)).toBe(SIGNER);
  });

  test("a tampered key, a wrong signer, a missing or stale signature refuse, naming the signer", () => {
    const r = signEnvKey(KEY, APP, PK, NOW);
    expect(refusal(() => trustedEnvKey({ ...r, public_key: "cd".repeat(32) }, APP, SIGNER, NOW)).message).toContain(SIGNER);
    const wrong = refusal(() => trustedEnvKey(signEnvKey(OTHER, APP, PK, NOW), APP, SIGNER, NOW)).message;
    expect(wrong).toContain(`signed by ${signerOfKey(OTHER)}, not by the trusted KMS signer ${SIGNER}`);
    const missing = refusal(() => trustedEnvKey({ public_key: PK, signature: "", signature_v1: "", timestamp: NOW }, APP, SIGNER, NOW));
    expect(missing.message).toContain("no signature");
    expect(missing.message).toContain(SIGNER);
    expect(refusal(() => trustedEnvKey(r, APP, SIGNER, NOW + 301)).message).toContain("301 s old");
    expect(refusal(() => trustedEnvKey(r, APP, SIGNER, NOW - 61)).message).toContain("ahead");
    expect(refusal(() => trustedEnvKey(r, "34".repeat(20), SIGNER, NOW)).message).toContain("not by the trusted KMS signer");
    expect(refusal(() => trustedEnvKey(r, APP, undefined, NOW)).message).toContain("no trusted KMS signer");
  });

  test("a pinned signer: compressed or uncompressed hex, with or without 0x; garbage is none", () => {
    expect(parseSigner(SIGNER)).toBe(SIGNER);
    expect(parseSigner(SIGNER.slice(2).toUpperCase())).toBe(SIGNER);
    expect(parseSigner(Buffer.from(secp256k1.getPublicKey(KEY, false)).toString("hex"))).toBe(SIGNER);
    expect(parseSigner("0x1234")).toBeUndefined();
    expect(parseSigner(`0x02${"ff".repeat(32)}`)).toBeUndefined();
  });
});
