/**
 * secp256k1 as dstack's KMS and guest use it: compressed SEC1 public keys and
 * recoverable ECDSA signatures over keccak256(message), 65 bytes r ‖ s ‖ recovery id.
 */
import { secp256k1 } from "@noble/curves/secp256k1";
import { keccak_256 } from "@noble/hashes/sha3";

/** The compressed (33-byte) public key; throws when key is not a valid secret scalar. */
export function k256PublicKey(key: Uint8Array): Uint8Array {
  return secp256k1.getPublicKey(key, true);
}

export function signKeccakRecoverable(key: Uint8Array, message: Uint8Array): Uint8Array {
  const sig = secp256k1.sign(keccak_256(message), key);
  const out = new Uint8Array(65);
  out.set(sig.toCompactRawBytes());
  out[64] = sig.recovery;
  return out;
}

/** The compressed public key that made this 65-byte signature over keccak256(message). */
export function recoverKeccakSigner(message: Uint8Array, signature: Uint8Array): Uint8Array {
  if (signature.length !== 65) throw new Error(`a recoverable signature is 65 bytes, got ${signature.length}`);
  const recovery = signature[64]!;
  if (recovery > 3) throw new Error(`bad recovery id ${recovery}`);
  return secp256k1.Signature.fromCompact(signature.subarray(0, 64))
    .addRecoveryBit(recovery)
    .recoverPublicKey(keccak_256(message))
    .toRawBytes(true);
}
