import { describe, expect, test } from "bun:test";
import { encryptEnvVars } from "@phala/dstack-sdk/encrypt-env-vars";
import {
  decryptEnv,
  deriveEnvKeyPair,
  encryptEnv,
  envPlaintext,
  envPublicKeyOf,
  generateEnvKeyPair,
  guestEnvFilter,
  openEnvBytes,
  sealEnvBytes,
} from "../../../src/core/env/envcrypt.ts";
import { DstackError, UsageError } from "../../../src/core/errors.ts";

// The decrypt vector of Dstack-TEE/dstack: dstack/dstack-util/src/crypto.rs (its tests)
const VEC_SECRET = "7c282bf94b35dc47801dc953bfa0896fc2bd313381d3e8eca4e42f6536d2a96f";
const VEC_PUBLIC = "b5ee2e67280ef8c9540850e90e6b7ee1b5e7ef011301bde95a2e6f953d04d201";
const VEC_BLOB =
  "0bd18749612f4c8b9dd583c7d6a646b90abd34e3c731a7708d0caf9039095641e1f0948e775f0b7351788db7f246d51806954626dcccb6a60d64665ca3715c6bef75616cab476d27bba04080361200d6a58cec";

/**
 * The scheme's steps (upstream dstack/vmm/src/vmm-cli.py `encrypt_env`), written independently of
 * src/core/envcrypt.ts with WebCrypto: split pub(32) ‖ iv(12) ‖ ct‖tag, X25519,
 * the raw shared secret as the AES-256-GCM key, no AAD.
 */
async function referenceDecrypt(blobHex: string, secretHex: string): Promise<string> {
  const blob = Uint8Array.from(Buffer.from(blobHex, "hex"));
  const ephPub = blob.slice(0, 32);
  const iv = blob.slice(32, 44);
  const ctTag = blob.slice(44);
  const pkcs8 = Uint8Array.from(Buffer.concat([Buffer.from("302e020100300506032b656e04220420", "hex"), Buffer.from(secretHex, "hex")]));
  const priv = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "X25519" }, false, ["deriveBits"]);
  const pub = await crypto.subtle.importKey("raw", ephPub, { name: "X25519" }, false, []);
  const shared = await crypto.subtle.deriveBits({ name: "X25519", public: pub }, priv, 256);
  const key = await crypto.subtle.importKey("raw", shared, { name: "AES-GCM" }, false, ["decrypt"]);
  const pt = await crypto.subtle.decrypt({ name: "AES-GCM", iv, tagLength: 128 }, key, ctTag);
  return new TextDecoder().decode(pt);
}

const SAMPLE = [
  { key: "API_KEY", value: "s3cr3t" },
  { key: "EMPTY", value: "" },
  { key: "UNICODE", value: 'päss wörd 🔐 日本 "quoted" \\ \n newline' },
  { key: "_under_score9", value: "x".repeat(5000) },
];

describe("upstream's vector", () => {
  test("public key of the vector secret", () => {
    expect(envPublicKeyOf(VEC_SECRET)).toBe(VEC_PUBLIC);
    expect(envPublicKeyOf(Buffer.from(VEC_SECRET, "hex"))).toBe(VEC_PUBLIC);
  });
  test("the vector blob decrypts to its plaintext (ours and the reference steps)", async () => {
    expect(openEnvBytes(VEC_BLOB, VEC_SECRET).toString("utf8")).toBe('[{"key":"","value":""}]');
    expect(await referenceDecrypt(VEC_BLOB, VEC_SECRET)).toBe('[{"key":"","value":""}]');
    // it is a crypto-only vector: not the {"env":[…]} payload the guest needs
    expect(() => decryptEnv(VEC_BLOB, VEC_SECRET)).toThrow(/no "env" array/);
  });
});

describe("encryptEnv / decryptEnv", () => {
  test("round trip, fresh ephemeral key and IV each time", () => {
    const kp = generateEnvKeyPair();
    expect(kp.privateKey).toMatch(/^[0-9a-f]{64}$/);
    expect(envPublicKeyOf(kp.privateKey)).toBe(kp.publicKey);
    const a = encryptEnv(SAMPLE, kp.publicKey);
    const b = encryptEnv(SAMPLE, `0x${kp.publicKey.toUpperCase()}`);
    expect(a).toMatch(/^[0-9a-f]+$/);
    expect(a.slice(0, 64)).not.toBe(b.slice(0, 64));
    expect(a.slice(64, 88)).not.toBe(b.slice(64, 88));
    expect(decryptEnv(a, kp.privateKey)).toEqual(SAMPLE);
    expect(decryptEnv(Buffer.from(b, "hex"), Buffer.from(kp.privateKey, "hex"))).toEqual(SAMPLE);
  });
  test("byte layout: eph pub(32) ‖ iv(12) ‖ ct(len(plaintext)) ‖ tag(16); decrypted by the reference steps", async () => {
    const kp = generateEnvKeyPair();
    const blob = encryptEnv(SAMPLE, kp.publicKey);
    const pt = envPlaintext(SAMPLE);
    expect(pt).toBe(JSON.stringify({ env: SAMPLE }));
    expect(blob.length / 2).toBe(32 + 12 + Buffer.byteLength(pt) + 16);
    expect(await referenceDecrypt(blob, kp.privateKey)).toBe(pt);
  });
  test("empty env list still decrypts to {env:[]}", async () => {
    const kp = generateEnvKeyPair();
    const blob = encryptEnv([], kp.publicKey);
    expect(decryptEnv(blob, kp.privateKey)).toEqual([]);
    expect(await referenceDecrypt(blob, kp.privateKey)).toBe('{"env":[]}');
  });
  test("failures: wrong key, tampered, short, bad hex, bad public key, low-order point", () => {
    const kp = generateEnvKeyPair();
    const other = generateEnvKeyPair();
    const blob = encryptEnv(SAMPLE, kp.publicKey);
    expect(() => decryptEnv(blob, other.privateKey)).toThrow(/authentication tag mismatch/);
    const tampered = blob.slice(0, 100) + (blob[100] === "0" ? "1" : "0") + blob.slice(101);
    expect(() => decryptEnv(tampered, kp.privateKey)).toThrow(DstackError);
    expect(() => decryptEnv("00".repeat(44), kp.privateKey)).toThrow(/too short/);
    expect(() => decryptEnv("zz", kp.privateKey)).toThrow(/not hex/);
    expect(() => encryptEnv(SAMPLE, "abcd")).toThrow(UsageError);
    expect(() => encryptEnv(SAMPLE, "abcd")).toThrow(/must be 32 bytes/);
    expect(() => encryptEnv(SAMPLE, "00".repeat(32))).toThrow(/all-zero|agreement/);
    expect(() => sealEnvBytes(new Uint8Array(1), `01${"00".repeat(31)}`)).toThrow(/all-zero|agreement/);
  });
});

describe("interop with @phala/dstack-sdk encryptEnvVars", () => {
  test("SDK ciphertexts decrypt with our decryptEnv (50 random sets)", async () => {
    let n = 0;
    for (let i = 0; i < 50; i++) {
      const kp = generateEnvKeyPair();
      const vars = Array.from({ length: i % 7 }, (_, j) => ({ key: `K${i}_${j}`, value: `v${"é🔐".repeat(j)}${Math.random()}` }));
      const blob = await encryptEnvVars(vars, kp.publicKey);
      expect(decryptEnv(blob, kp.privateKey)).toEqual(vars);
      expect(await referenceDecrypt(blob, kp.privateKey)).toBe(envPlaintext(vars));
      // identical format: same length, same plaintext
      expect(encryptEnv(vars, kp.publicKey).length).toBe(blob.length);
      n++;
    }
    expect(n).toBe(50);
  });
  test("SDK blob with a 0x public key and our blob are interchangeable for one key pair", async () => {
    const kp = generateEnvKeyPair();
    const sdk = await encryptEnvVars(SAMPLE, `0x${kp.publicKey}`);
    const ours = encryptEnv(SAMPLE, kp.publicKey);
    expect(decryptEnv(sdk, kp.privateKey)).toEqual(decryptEnv(ours, kp.privateKey));
    expect(await referenceDecrypt(sdk, kp.privateKey)).toBe(await referenceDecrypt(ours, kp.privateKey));
  });
});

describe("simulator helpers", () => {
  test("deriveEnvKeyPair is deterministic per (seed, app id) and a valid pair", () => {
    const app = "ab".repeat(20);
    const a = deriveEnvKeyPair("seed", app);
    expect(deriveEnvKeyPair("seed", `0x${app.toUpperCase()}`)).toEqual(a);
    expect(deriveEnvKeyPair("seed", "cd".repeat(20)).publicKey).not.toBe(a.publicKey);
    expect(deriveEnvKeyPair("other", app).publicKey).not.toBe(a.publicKey);
    expect(envPublicKeyOf(a.privateKey)).toBe(a.publicKey);
    expect(decryptEnv(encryptEnv(SAMPLE, a.publicKey), a.privateKey)).toEqual(SAMPLE);
    expect(() => deriveEnvKeyPair("seed", "abc")).toThrow(/app id/);
  });
  test("guestEnvFilter drops names not in allowed_envs and enforces the guest limits", () => {
    const r = guestEnvFilter(SAMPLE, ["API_KEY", "EMPTY", "NOT_SENT"]);
    expect(r.env.map((v) => v.key)).toEqual(["API_KEY", "EMPTY"]);
    expect(r.dropped).toEqual(["UNICODE", "_under_score9"]);
    expect(guestEnvFilter(SAMPLE, []).env).toEqual([]);
    expect(() => guestEnvFilter([{ key: "1A", value: "" }], ["1A"])).toThrow(/invalid env var name/);
    expect(() => guestEnvFilter([{ key: "A", value: "x".repeat(128 * 1024 + 1) }], ["A"])).toThrow(/too large/);
    expect(guestEnvFilter([{ key: "A", value: "x".repeat(128 * 1024) }], ["A"]).env).toHaveLength(1);
    const many = Array.from({ length: 1025 }, (_, i) => ({ key: `K${i}`, value: "" }));
    expect(() =>
      guestEnvFilter(
        many,
        many.map((v) => v.key),
      ),
    ).toThrow(/too many/);
    const big = Array.from({ length: 9 }, (_, i) => ({ key: `K${i}`, value: "x".repeat(120 * 1024) }));
    expect(() =>
      guestEnvFilter(
        big,
        big.map((v) => v.key),
      ),
    ).toThrow(/in total/);
    const long = "K".repeat(256);
    expect(() => guestEnvFilter([{ key: long, value: "" }], [long])).toThrow(/name too long/);
  });
});
