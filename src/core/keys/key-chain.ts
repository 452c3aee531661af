/**
 * dstack's key chain from the KMS root down to an app's GetKey keys.
 *
 * - app key = HKDF(KMS root k256 key, [app id, "app-key"]); the KMS signs it:
 *   sig_app = sign_root(keccak("dstack-kms-issued" ‖ ":" ‖ app id ‖ app pubkey)).
 * - GetKey(path, purpose, algorithm): key = HKDF(app key, [path]) (the algorithm only
 *   says how the 32 bytes are read: a secp256k1 scalar or an ed25519 seed);
 *   sig_key = sign_app(keccak(purpose ‖ ":" ‖ hex(pubkey))), pubkey the compressed
 *   secp256k1 key or the 32-byte ed25519 key.
 * - signature_chain = [sig_key, sig_app]; verifyKeyChain recovers the root from it.
 *
 * Upstream: Dstack-TEE/dstack: dstack/kms/src/crypto.rs, dstack/guest-agent/src/rpc_service.rs (get_key).
 */
import { ed25519 } from "@noble/curves/ed25519";
import { k256PublicKey, recoverKeccakSigner, signKeccakRecoverable } from "./k256.ts";
import { deriveKey } from "./kdf.ts";

export type KeyAlgorithm = "secp256k1" | "ed25519";

const utf8 = (s: string) => Buffer.from(s, "utf8");
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** The canonical algorithm name, or undefined for an unsupported one ("" and "k256" mean secp256k1). */
export function keyAlgorithmOf(name: string): KeyAlgorithm | undefined {
  if (name === "" || name === "secp256k1" || name === "k256") return "secp256k1";
  if (name === "ed25519") return "ed25519";
  return undefined;
}

export interface AppKey {
  key: Uint8Array;
  /** the KMS root's signature over the app's public key */
  signature: Uint8Array;
}

function appKeyMessage(appId: Uint8Array, appPublicKey: Uint8Array): Uint8Array {
  return Buffer.concat([utf8("dstack-kms-issued:"), appId, appPublicKey]);
}

export function deriveAppKey(rootKey: Uint8Array, appId: Uint8Array): AppKey {
  const key = deriveKey(rootKey, [appId, utf8("app-key")]);
  return { key, signature: signKeccakRecoverable(rootKey, appKeyMessage(appId, k256PublicKey(key))) };
}

export function publicKeyOf(key: Uint8Array, algorithm: KeyAlgorithm): Uint8Array {
  return algorithm === "ed25519" ? ed25519.getPublicKey(key) : k256PublicKey(key);
}

function keyMessage(purpose: string, publicKey: Uint8Array): Uint8Array {
  return utf8(`${purpose}:${hex(publicKey)}`);
}

export interface DerivedKey {
  key: Uint8Array;
  signatureChain: [Uint8Array, Uint8Array];
}

export function deriveAppPathKey(app: AppKey, path: string, purpose: string, algorithm: KeyAlgorithm): DerivedKey {
  const key = deriveKey(app.key, [utf8(path)]);
  const sig = signKeccakRecoverable(app.key, keyMessage(purpose, publicKeyOf(key, algorithm)));
  return { key, signatureChain: [sig, app.signature] };
}

/** The compressed KMS root public key the chain leads to (compare it with the trusted one). */
export function verifyKeyChain(k: {
  key: Uint8Array;
  signatureChain: readonly Uint8Array[];
  purpose: string;
  algorithm: KeyAlgorithm;
  appId: Uint8Array;
}): {
  appPublicKey: Uint8Array;
  rootPublicKey: Uint8Array;
} {
  if (k.signatureChain.length !== 2) throw new Error(`a GetKey signature chain has 2 signatures, got ${k.signatureChain.length}`);
  const appPublicKey = recoverKeccakSigner(keyMessage(k.purpose, publicKeyOf(k.key, k.algorithm)), k.signatureChain[0]!);
  const rootPublicKey = recoverKeccakSigner(appKeyMessage(k.appId, appPublicKey), k.signatureChain[1]!);
  return { appPublicKey, rootPublicKey };
}
