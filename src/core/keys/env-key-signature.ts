/**
 * The KMS's signature over an app's env-encryption public key, as the real KMS makes it
 * (Dstack-TEE/dstack: dstack/kms/src/main_service.rs get_app_env_encrypt_pub_key, crypto.rs):
 * with its secp256k1 signing key, recoverable, over
 *   signature    = keccak("dstack-env-encrypt-pubkey" ‖ ":" ‖ app id ‖ public key)
 *   signature_v1 = keccak("dstack-env-encrypt-pubkey" ‖ ":" ‖ app id ‖ timestamp (u64 BE) ‖ public key)
 * (app id: its 20 bytes; public key: the 32-byte X25519 key; hex on the VMM's JSON wire).
 *
 * dstack seals secrets only to a key whose signer is the KMS recorded at install (or pinned):
 * a missing, invalid, stale or unknown signature refuses. Upstream's CLI only warns.
 */
import { secp256k1 } from "@noble/curves/secp256k1";
import { RefusedError } from "../errors.ts";
import { hexOf } from "./hex.ts";
import { k256PublicKey, recoverKeccakSigner, signKeccakRecoverable } from "./k256.ts";

const PREFIX = Buffer.from("dstack-env-encrypt-pubkey:");
/** How old a signature_v1 may be, and how far ahead of our clock (the SDK's verifyEnvEncryptPublicKey bounds). */
export const MAX_AGE_S = 300;
export const MAX_AHEAD_S = 60;

export interface SignedEnvKey {
  public_key: string;
  signature: string;
  timestamp: number;
  signature_v1: string;
}

const bytes = (hex: string) => new Uint8Array(Buffer.from(hex.replace(/^0x/i, ""), "hex"));

function timestampBytes(ts: number): Uint8Array {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(ts));
  return b;
}

const legacyMessage = (appId: string, publicKey: string) => Buffer.concat([PREFIX, bytes(appId), bytes(publicKey)]);
const v1Message = (appId: string, ts: number, publicKey: string) =>
  Buffer.concat([PREFIX, bytes(appId), timestampBytes(ts), bytes(publicKey)]);

/** Sign an env key as the KMS does (the simulated KMS uses it). */
export function signEnvKey(signingKey: Uint8Array, appId: string, publicKey: string, timestamp: number): SignedEnvKey {
  return {
    public_key: publicKey,
    signature: hexOf(signKeccakRecoverable(signingKey, legacyMessage(appId, publicKey))),
    timestamp,
    signature_v1: hexOf(signKeccakRecoverable(signingKey, v1Message(appId, timestamp, publicKey))),
  };
}

/** A signer as dstack names it: 0x + the compressed public key, lowercase. */
export function signerName(compressed: Uint8Array): string {
  return `0x${hexOf(compressed)}`;
}

/** The signing key's signer name (the simulated KMS reports its own). */
export function signerOfKey(signingKey: Uint8Array): string {
  return signerName(k256PublicKey(signingKey));
}

/**
 * Normalise a pinned signer (--kms-signer, DSTACK_KMS_SIGNER, the state file): a 33-byte
 * compressed or 65-byte uncompressed secp256k1 key in hex; undefined when it is not one.
 */
export function parseSigner(s: string): string | undefined {
  const h = s.trim().replace(/^0x/i, "").toLowerCase();
  if (!/^(0[23][0-9a-f]{64}|04[0-9a-f]{128})$/.test(h)) return undefined;
  try {
    return signerName(secp256k1.ProjectivePoint.fromHex(h).toRawBytes(true));
  } catch {
    return undefined; // not a point on the curve
  }
}

/**
 * Who signed this env key: signature_v1 when the KMS sent one (its timestamp must be fresh),
 * else the legacy signature. Throws a reason when there is none or it does not verify.
 */
export function envKeySigner(r: Partial<SignedEnvKey>, appId: string, nowS: number): string {
  const pk = r.public_key ?? "";
  if (!/^(0x)?[0-9a-fA-F]{64}$/.test(pk)) throw new Error(`the public key is not 32 bytes of hex (${JSON.stringify(pk)})`);
  if (r.signature_v1) {
    const ts = Number(r.timestamp);
    if (!Number.isSafeInteger(ts) || ts < 0) throw new Error(`signature_v1 came with no valid timestamp (${JSON.stringify(r.timestamp)})`);
    const age = nowS - ts;
    if (age > MAX_AGE_S) throw new Error(`signature_v1 is ${age} s old (at most ${MAX_AGE_S} s: a replayed answer?)`);
    if (age < -MAX_AHEAD_S) throw new Error(`signature_v1 is dated ${-age} s ahead of this machine's clock`);
    return recovered(v1Message(appId, ts, pk), r.signature_v1, "signature_v1");
  }
  if (r.signature) return recovered(legacyMessage(appId, pk), r.signature, "signature");
  throw new Error("the answer carries no signature (neither signature_v1 nor signature)");
}

function recovered(message: Uint8Array, sigHex: string, what: string): string {
  if (!/^(0x)?[0-9a-fA-F]{130}$/.test(sigHex)) throw new Error(`${what} is not 65 bytes of hex`);
  try {
    return signerName(recoverKeccakSigner(message, bytes(sigHex)));
  } catch (e) {
    throw new Error(`${what} does not verify (${(e as Error).message})`);
  }
}

/**
 * The env key to seal secrets to, once its signer is the trusted KMS signer; otherwise a
 * RefusedError (exit 4) naming the expected signer and the one found.
 */
export function trustedEnvKey(r: Partial<SignedEnvKey>, appId: string, trusted: string | undefined, nowS: number): string {
  const hint =
    "pin the KMS's signing key with --kms-signer 0x… or DSTACK_KMS_SIGNER (the k256_pubkey its GetMeta reports); `dstackup install` records it for a local install";
  if (!trusted)
    throw new RefusedError("refusing to seal secrets: no trusted KMS signer is known for this host, so the env key cannot be checked", {
      hint,
    });
  let signer: string;
  try {
    signer = envKeySigner(r, appId, nowS);
  } catch (e) {
    throw new RefusedError(
      `refusing to seal secrets: the env key for app ${appId} is not validly signed by the KMS signer ${trusted}: ${(e as Error).message}`,
      { hint },
    );
  }
  if (signer !== trusted)
    throw new RefusedError(
      `refusing to seal secrets: the env key for app ${appId} is signed by ${signer}, not by the trusted KMS signer ${trusted}`,
      { hint },
    );
  return r.public_key!.replace(/^0x/i, "").toLowerCase();
}
