/**
 * Encrypted environment variables (Dstack-TEE/dstack: dstack/dstack-util/src/crypto.rs):
 *
 *   plaintext = UTF-8 JSON {"env":[{"key":…,"value":…},…]}
 *   shared    = X25519(ephemeral private, app env public key)   — used directly as the AES-256-GCM key
 *   blob      = ephemeral public (32) ‖ IV (12) ‖ ciphertext ‖ tag (16), lowercase hex
 *
 * Only node:crypto (no new dependency). decryptEnv is what the guest does with
 * `env_crypt_key` (the VMM simulator uses it while playing the KMS).
 */
import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
  randomBytes,
} from "node:crypto";
import { DstackError, UsageError } from "../errors.ts";

export interface EnvVar {
  key: string;
  value: string;
}

// DER wrappers for raw 32-byte X25519 keys (RFC 8410).
const PKCS8_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex");
const SPKI_PREFIX = Buffer.from("302a300506032b656e032100", "hex");

const PUB_LEN = 32;
const IV_LEN = 12;
const TAG_LEN = 16;

/** Hex (optional 0x, any case) → bytes of exactly `len`, or a UsageError naming `what`. */
export function hexToBytes(hex: string, what: string, len?: number): Buffer {
  const h = hex.trim().replace(/^0x/i, "");
  if (h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h)) throw new UsageError(`${what} is not hex`);
  const b = Buffer.from(h, "hex");
  if (len !== undefined && b.length !== len)
    throw new UsageError(`${what} must be ${len} bytes (${len * 2} hex characters), got ${b.length}`);
  return b;
}

function privateKeyObject(priv: Uint8Array | string): KeyObject {
  const raw = typeof priv === "string" ? hexToBytes(priv, "the env private key", 32) : Buffer.from(priv);
  if (raw.length !== 32) throw new UsageError(`the env private key must be 32 bytes, got ${raw.length}`);
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, raw]), format: "der", type: "pkcs8" });
}

function publicKeyObject(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, Buffer.from(raw)]), format: "der", type: "spki" });
}

function rawPublic(key: KeyObject): Buffer {
  return createPublicKey(key).export({ format: "der", type: "spki" }).subarray(SPKI_PREFIX.length);
}

function rawPrivate(key: KeyObject): Buffer {
  return key.export({ format: "der", type: "pkcs8" }).subarray(PKCS8_PREFIX.length);
}

export interface EnvKeyPair {
  /** 32 bytes, lowercase hex. */
  privateKey: string;
  /** 32 bytes, lowercase hex. */
  publicKey: string;
}

/** A new X25519 key pair (what the KMS derives per app; the simulator makes one). */
export function generateEnvKeyPair(): EnvKeyPair {
  const { privateKey } = generateKeyPairSync("x25519");
  return { privateKey: rawPrivate(privateKey).toString("hex"), publicKey: rawPublic(privateKey).toString("hex") };
}

/**
 * A deterministic env key pair per app id, for the VMM simulator playing the
 * KMS (which must answer GetAppEnvEncryptPubKey before the VM exists):
 * HKDF-SHA256(seed, salt = app id bytes, info = "env-encrypt-key"). The real
 * KMS derives it from its root key with its own KDF; only determinism matters here.
 */
export function deriveEnvKeyPair(seed: Uint8Array | string, appId: string): EnvKeyPair {
  const ikm = typeof seed === "string" ? Buffer.from(seed, "utf8") : Buffer.from(seed);
  const salt = hexToBytes(appId, "the app id", 20);
  const priv = Buffer.from(hkdfSync("sha256", ikm, salt, "env-encrypt-key", 32));
  return { privateKey: priv.toString("hex"), publicKey: envPublicKeyOf(priv) };
}

/** The X25519 public key (hex) of a private key (hex or bytes). */
export function envPublicKeyOf(privateKey: Uint8Array | string): string {
  return rawPublic(privateKeyObject(privateKey)).toString("hex");
}

function sharedSecret(priv: KeyObject, pubRaw: Uint8Array): Buffer {
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey: priv, publicKey: publicKeyObject(pubRaw) });
  } catch (e) {
    throw new DstackError(`X25519 key agreement failed: ${e instanceof Error ? e.message : e}`);
  }
  if (shared.every((b) => b === 0)) throw new DstackError("X25519 key agreement gave an all-zero secret (a low-order public key)");
  return shared;
}

/** The exact plaintext the guest expects. */
export function envPlaintext(vars: EnvVar[]): string {
  return JSON.stringify({ env: vars.map((v) => ({ key: v.key, value: v.value })) });
}

/** Encrypt raw bytes for the holder of `publicKeyHex` (the scheme without the JSON wrapper). */
export function sealEnvBytes(plaintext: Uint8Array, publicKeyHex: string): Buffer {
  const remote = hexToBytes(publicKeyHex, "the app's env public key", 32);
  const { privateKey: eph } = generateKeyPairSync("x25519");
  const key = sharedSecret(eph, remote);
  const iv = randomBytes(IV_LEN);
  const c = createCipheriv("aes-256-gcm", key, iv);
  const body = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([rawPublic(eph), iv, body, c.getAuthTag()]);
}

/**
 * Encrypt env vars for an app whose env public key (from the KMS's
 * GetAppEnvEncryptPubKey) is `publicKeyHex`. Returns lowercase hex of
 * ephemeral_pub ‖ iv ‖ ciphertext ‖ tag, the `encrypted_env` of CreateVm.
 */
export function encryptEnv(vars: EnvVar[], publicKeyHex: string): string {
  for (const v of vars) {
    if (typeof v.key !== "string" || typeof v.value !== "string") throw new UsageError("env vars must have string keys and values");
  }
  return sealEnvBytes(Buffer.from(envPlaintext(vars), "utf8"), publicKeyHex).toString("hex");
}

/** Decrypt a blob (hex or bytes) to its plaintext bytes; throws on a short blob or a bad tag. */
export function openEnvBytes(blob: string | Uint8Array, privateKey: Uint8Array | string): Buffer {
  const b = typeof blob === "string" ? hexToBytes(blob, "the encrypted env") : Buffer.from(blob);
  if (b.length < PUB_LEN + IV_LEN + TAG_LEN) {
    throw new DstackError(`the encrypted env is too short (${b.length} bytes; at least ${PUB_LEN + IV_LEN + TAG_LEN} needed)`);
  }
  const key = sharedSecret(privateKeyObject(privateKey), b.subarray(0, PUB_LEN));
  const iv = b.subarray(PUB_LEN, PUB_LEN + IV_LEN);
  const tag = b.subarray(b.length - TAG_LEN);
  const d = createDecipheriv("aes-256-gcm", key, iv);
  d.setAuthTag(tag);
  try {
    return Buffer.concat([d.update(b.subarray(PUB_LEN + IV_LEN, b.length - TAG_LEN)), d.final()]);
  } catch {
    throw new DstackError("the encrypted env does not decrypt with this key (authentication tag mismatch)");
  }
}

/**
 * Decrypt an `encrypted_env` blob with the app's env private key, as the guest
 * does: the plaintext must be `{"env":[{key,value}…]}`.
 */
export function decryptEnv(blob: string | Uint8Array, privateKey: Uint8Array | string): EnvVar[] {
  const text = openEnvBytes(blob, privateKey).toString("utf8");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new DstackError("the decrypted env is not JSON");
  }
  const env = (parsed as { env?: unknown } | null)?.env;
  if (!Array.isArray(env)) throw new DstackError('the decrypted env has no "env" array');
  return env.map((e, i) => {
    if (!e || typeof e.key !== "string" || typeof e.value !== "string") {
      throw new DstackError(`the decrypted env entry ${i} is not {"key": string, "value": string}`);
    }
    return { key: e.key, value: e.value };
  });
}

/** Limits the guest enforces on decrypted env vars (Dstack-TEE/dstack: dstack/dstack-util/src/parse_env_file.rs). */
export const GUEST_ENV_LIMITS = { maxVars: 1024, maxKeyBytes: 255, maxValueBytes: 128 * 1024, maxTotalBytes: 1024 * 1024 } as const;

const GUEST_KEY_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * What the guest does after decrypting: drop vars not listed in the
 * app-compose `allowed_envs` (a warning), then fail the boot on more than 1024
 * vars, a key over 255 bytes or not matching [a-zA-Z_][a-zA-Z0-9_]*, a value
 * over 128 KiB, or over 1 MiB in total (keys + values). Throws DstackError.
 */
export function guestEnvFilter(vars: EnvVar[], allowedEnvs: string[]): { env: EnvVar[]; dropped: string[] } {
  const allowed = new Set(allowedEnvs);
  const env = vars.filter((v) => allowed.has(v.key));
  const dropped = vars.filter((v) => !allowed.has(v.key)).map((v) => v.key);
  const L = GUEST_ENV_LIMITS;
  if (env.length > L.maxVars) throw new DstackError(`too many env vars: ${env.length} (at most ${L.maxVars})`);
  let total = 0;
  for (const v of env) {
    const kb = Buffer.byteLength(v.key);
    const vb = Buffer.byteLength(v.value);
    if (kb > L.maxKeyBytes) throw new DstackError(`env var name too long: ${kb} bytes (at most ${L.maxKeyBytes})`);
    if (!GUEST_KEY_RE.test(v.key)) throw new DstackError(`invalid env var name ${JSON.stringify(v.key)}`);
    if (vb > L.maxValueBytes) throw new DstackError(`env var ${v.key} is too large: ${vb} bytes (at most ${L.maxValueBytes})`);
    total += kb + vb;
  }
  if (total > L.maxTotalBytes) throw new DstackError(`env vars too large in total: ${total} bytes (at most ${L.maxTotalBytes})`);
  return { env, dropped };
}
