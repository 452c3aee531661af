/**
 * Sign and Verify: the guest signs with the key GetKey would give for path
 * "vms", purpose "signing" — ed25519 over the data, secp256k1 (ECDSA, r ‖ s)
 * over sha256(data), or secp256k1_prehashed over a 32-byte digest — and returns
 * the signature chain [signature, key's signature by the app key, app key's by the KMS root].
 *
 * Upstream: Dstack-TEE/dstack: dstack/guest-agent/src/rpc_service.rs (sign, verify).
 */
import { ed25519 } from "@noble/curves/ed25519";
import { secp256k1 } from "@noble/curves/secp256k1";
import { sha256Bytes } from "../../../core/hash.ts";
import { hexOf } from "../../../core/keys/hex.ts";
import { deriveAppPathKey, keyAlgorithmOf, publicKeyOf } from "../../../core/keys/key-chain.ts";
import type { GuestState } from "../attestation/state.ts";
import { RpcError } from "../rpc.ts";

function canonical(algorithm: string): "ed25519" | "secp256k1" | "secp256k1_prehashed" {
  if (algorithm === "secp256k1_prehashed") return algorithm;
  const a = keyAlgorithmOf(algorithm);
  if (!a || algorithm === "") throw new RpcError("Unsupported algorithm");
  return a;
}

function prehashed(data: Uint8Array): Uint8Array {
  if (data.length !== 32) throw new RpcError(`Pre-hashed signing requires a 32-byte digest, but received ${data.length} bytes`);
  return data;
}

export function sign(s: GuestState, algorithm: string, data: Uint8Array) {
  const alg = canonical(algorithm);
  const keyAlg = alg === "ed25519" ? "ed25519" : "secp256k1";
  const k = deriveAppPathKey(s.appKey, "vms", "signing", keyAlg);
  const signature =
    alg === "ed25519"
      ? ed25519.sign(data, k.key)
      : secp256k1.sign(alg === "secp256k1" ? sha256Bytes(data) : prehashed(data), k.key).toCompactRawBytes();
  return {
    signature: hexOf(signature),
    signature_chain: [signature, ...k.signatureChain].map(hexOf),
    public_key: hexOf(publicKeyOf(k.key, keyAlg)),
  };
}

export function verify(algorithm: string, data: Uint8Array, signature: Uint8Array, publicKey: Uint8Array) {
  const alg = canonical(algorithm);
  try {
    if (alg === "ed25519") {
      if (publicKey.length !== 32) throw new Error("invalid public key");
      return { valid: ed25519.verify(signature, data, publicKey) };
    }
    if (signature.length !== 64) throw new Error("signature error");
    secp256k1.ProjectivePoint.fromHex(publicKey); // a bad key is an error, not "invalid"
    return { valid: secp256k1.verify(signature, alg === "secp256k1" ? sha256Bytes(data) : data, publicKey) };
  } catch (e) {
    throw new RpcError((e as Error).message);
  }
}
