/**
 * A DER encoder for the few ASN.1 types X.509 certificates and PKCS#8 keys
 * need. Each function returns the complete TLV bytes.
 */

function lengthOf(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, content: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), lengthOf(content.length), content]);
}

export const seq = (...items: Uint8Array[]) => tlv(0x30, Buffer.concat(items));
export const set = (...items: Uint8Array[]) => tlv(0x31, Buffer.concat(items));
export const octets = (b: Uint8Array) => tlv(0x04, b);
export const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, "utf8"));

export const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]));
/** context-specific [n]: explicit (constructed, wraps a TLV) or implicit primitive */
export const explicit = (n: number, inner: Uint8Array) => tlv(0xa0 | n, inner);
export const implicit = (n: number, content: Uint8Array) => tlv(0x80 | n, content);

/** A BIT STRING; unusedBits trailing bits of the last byte are padding (named-bit lists drop trailing zeros). */
export function bitString(b: Uint8Array, unusedBits = 0): Buffer {
  return tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), b]));
}

/** A non-negative INTEGER from big-endian bytes (minimal form). */
export function uint(b: Uint8Array): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const v = Buffer.from(b.subarray(i));
  return tlv(0x02, v[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
}

export const smallInt = (n: number) => uint(Buffer.from([n]));

export function oid(dotted: string): Buffer {
  const parts = dotted.split(".").map(Number);
  if (parts.length < 2 || parts.some((p) => !Number.isSafeInteger(p) || p < 0)) throw new Error(`bad OID ${dotted}`);
  const out: number[] = [parts[0]! * 40 + parts[1]!];
  for (const p of parts.slice(2)) {
    const enc: number[] = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) enc.unshift(0x80 | (v & 0x7f));
    out.push(...enc);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime before 2050, GeneralizedTime from then on (RFC 5280 §4.1.2.5). */
export function time(d: Date): Buffer {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  const year = d.getUTCFullYear();
  if (year < 1950 || year > 9999) throw new Error(`certificate time out of range: ${iso}`);
  return year < 2050 ? tlv(0x17, Buffer.from(digits.slice(2), "ascii")) : tlv(0x18, Buffer.from(digits, "ascii"));
}

export function pem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString("base64");
  return `-----BEGIN ${label}-----\n${b64.replace(/.{1,64}/g, "$&\n")}-----END ${label}-----\n`;
}
