/** The hashes the tools share: sha256 for content, FNV-1a for short stable names and seeds. */

/** sha256 of a text's UTF-8 bytes (or of bytes), as 64 lowercase hex digits. */
export function sha256Hex(data: string | Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(data).digest("hex");
}

/** sha256 of a text's UTF-8 bytes (or of bytes), as the 32 bytes. */
export function sha256Bytes(data: string | Uint8Array): Uint8Array {
  return new Bun.CryptoHasher("sha256").update(data).digest();
}

/** FNV-1a 32-bit over the UTF-8 bytes of `s` (unsigned). */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, "utf8")) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

/** A deterministic [0, 1) sequence from a string (FNV-1a seed, mulberry32). */
export function seededRandom(seed: string): () => number {
  let h = fnv1a32(seed);
  return () => {
    h = (h + 0x6d2b79f5) | 0;
    let t = Math.imul(h ^ (h >>> 15), 1 | h);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
