import { describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519";
import { secp256k1 } from "@noble/curves/secp256k1";
import { keccak_256 } from "@noble/hashes/sha3";
import { hexOf } from "../../../src/core/keys/hex.ts";
import { k256PublicKey, recoverKeccakSigner, signKeccakRecoverable } from "../../../src/core/keys/k256.ts";
import { deriveKey } from "../../../src/core/keys/kdf.ts";
import { deriveAppKey, deriveAppPathKey, keyAlgorithmOf, publicKeyOf, verifyKeyChain } from "../../../src/core/keys/key-chain.ts";

const root = new Uint8Array(32).fill(3);
const appId = Buffer.from("6d763a07aae72d4bf2ec85ef393472fa6a59ad1f", "hex");

describe("kdf", () => {
  test("HKDF-SHA256, salt 'RATLS', info = the context parts concatenated (RFC 5869 by hand)", () => {
    const ikm = Buffer.from("input key material");
    const prk = createHmac("sha256", "RATLS").update(ikm).digest();
    const t1 = createHmac("sha256", prk)
      .update(Buffer.concat([Buffer.from("context one"), Buffer.from([1])]))
      .digest();
    expect(hexOf(deriveKey(ikm, [Buffer.from("context "), Buffer.from("one")]))).toBe(t1.toString("hex"));
    expect(deriveKey(ikm, [], 64).length).toBe(64);
  });
});

describe("k256", () => {
  test("recoverable signatures over keccak256: 65 bytes, the signer recovers, a verifier agrees", () => {
    const msg = Buffer.from("hello");
    const sig = signKeccakRecoverable(root, msg);
    expect(sig.length).toBe(65);
    expect(hexOf(recoverKeccakSigner(msg, sig))).toBe(hexOf(k256PublicKey(root)));
    expect(secp256k1.verify(sig.subarray(0, 64), keccak_256(msg), k256PublicKey(root))).toBe(true);
    expect(hexOf(recoverKeccakSigner(Buffer.from("other"), sig))).not.toBe(hexOf(k256PublicKey(root)));
    expect(() => recoverKeccakSigner(msg, sig.subarray(0, 64))).toThrow("65 bytes");
  });
});

describe("key chain", () => {
  test("algorithms: '' / secp256k1 / k256 are secp256k1, ed25519, nothing else", () => {
    expect(["", "secp256k1", "k256", "ed25519", "rsa", "Ed25519"].map(keyAlgorithmOf)).toEqual([
      "secp256k1",
      "secp256k1",
      "secp256k1",
      "ed25519",
      undefined,
      undefined,
    ]);
  });

  test("the app key: HKDF(root, [app id, 'app-key']), signed by the root over 'dstack-kms-issued:' ‖ app id ‖ app pubkey", () => {
    const app = deriveAppKey(root, appId);
    expect(hexOf(app.key)).toBe(hexOf(deriveKey(root, [appId, Buffer.from("app-key")])));
    const msg = Buffer.concat([Buffer.from("dstack-kms-issued:"), appId, k256PublicKey(app.key)]);
    expect(hexOf(recoverKeccakSigner(msg, app.signature))).toBe(hexOf(k256PublicKey(root)));
    expect(hexOf(deriveAppKey(root, appId).key)).toBe(hexOf(app.key));
    expect(hexOf(deriveAppKey(root, Buffer.alloc(20)).key)).not.toBe(hexOf(app.key));
  });

  test("a path key: HKDF(app key, [path]); its signature is the app key's over 'purpose:hex(pubkey)'", () => {
    const app = deriveAppKey(root, appId);
    const k = deriveAppPathKey(app, "wallet", "signing", "secp256k1");
    expect(hexOf(k.key)).toBe(hexOf(deriveKey(app.key, [Buffer.from("wallet")])));
    const msg = Buffer.from(`signing:${hexOf(secp256k1.getPublicKey(k.key, true))}`);
    expect(hexOf(recoverKeccakSigner(msg, k.signatureChain[0]))).toBe(hexOf(k256PublicKey(app.key)));
    expect(hexOf(k.signatureChain[1])).toBe(hexOf(app.signature));
    const e = deriveAppPathKey(app, "wallet", "signing", "ed25519");
    expect(hexOf(e.key)).toBe(hexOf(k.key)); // the algorithm does not separate keys (Dstack-TEE/dstack: sdk/curl/api.md)
    expect(hexOf(publicKeyOf(e.key, "ed25519"))).toBe(hexOf(ed25519.getPublicKey(k.key)));
    const eMsg = Buffer.from(`signing:${hexOf(ed25519.getPublicKey(e.key))}`);
    expect(hexOf(recoverKeccakSigner(eMsg, e.signatureChain[0]))).toBe(hexOf(k256PublicKey(app.key)));
  });

  test("verifyKeyChain recovers the root; a wrong purpose, app id or key leads elsewhere", () => {
    const app = deriveAppKey(root, appId);
    const k = deriveAppPathKey(app, "p", "use", "ed25519");
    const ok = { key: k.key, signatureChain: k.signatureChain, purpose: "use", algorithm: "ed25519" as const, appId };
    expect(hexOf(verifyKeyChain(ok).rootPublicKey)).toBe(hexOf(k256PublicKey(root)));
    expect(hexOf(verifyKeyChain(ok).appPublicKey)).toBe(hexOf(k256PublicKey(app.key)));
    const rootHex = hexOf(k256PublicKey(root));
    expect(hexOf(verifyKeyChain({ ...ok, purpose: "other" }).rootPublicKey)).not.toBe(rootHex);
    expect(hexOf(verifyKeyChain({ ...ok, appId: Buffer.alloc(20) }).rootPublicKey)).not.toBe(rootHex);
    expect(hexOf(verifyKeyChain({ ...ok, key: new Uint8Array(32).fill(1) }).rootPublicKey)).not.toBe(rootHex);
    expect(() => verifyKeyChain({ ...ok, signatureChain: [k.signatureChain[0]] })).toThrow("2 signatures");
  });
});
