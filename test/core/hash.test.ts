import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { fnv1a32, seededRandom, sha256Bytes, sha256Hex } from "../../src/core/hash.ts";
import { resolveLayout } from "../../src/core/layout.ts";

describe("fnv1a32", () => {
  test("the FNV-1a 32-bit reference values, over UTF-8 bytes", () => {
    expect(fnv1a32("")).toBe(0x811c9dc5);
    expect(fnv1a32("a")).toBe(0xe40c292c);
    expect(fnv1a32("foobar")).toBe(0xbf9cf968);
    expect(fnv1a32("ü")).toBe(fnv1a32("\u00fc")); // bytes c3 bc, not the UTF-16 unit
    expect(fnv1a32("ü")).not.toBe(Math.imul(0x811c9dc5 ^ 0xfc, 0x01000193) >>> 0);
  });
  test("instance suffixes derived from a prefix do not change", () => {
    expect(resolveLayout({ prefix: "/tmp/x" }).instance).toBe("x-ff28930c");
    expect(resolveLayout({ prefix: "/opt/dstack-test" }).instance).toBe("dstack-test-ed3acef7");
    expect(resolveLayout({ prefix: "/home/ü/ñ" }).instance).toBe("prefix-8527b4e2");
    expect(resolveLayout({ prefix: "/opt/dstack-test" }).vmmUnit).toBe("dstack-vmm-dstack-test-ed3acef7");
  });
});

describe("seededRandom", () => {
  test("the same seed draws the same sequence (the KMS port an install location picks)", () => {
    const r = seededRandom("/tmp/p/var/lib/dstack/dstackup-state.json");
    expect([r(), r(), r()]).toEqual([0.48741438519209623, 0.1036976296454668, 0.12956943339668214]);
    const other = seededRandom("/tmp/q/var/lib/dstack/dstackup-state.json");
    expect(other()).not.toBe(0.48741438519209623);
  });
});

describe("sha256Hex", () => {
  test("matches node:crypto for text (UTF-8) and bytes", () => {
    for (const s of ["", "abc", "日本語 😀"]) expect(sha256Hex(s)).toBe(createHash("sha256").update(s, "utf8").digest("hex"));
    expect(sha256Hex(new Uint8Array([0, 255]))).toBe(
      createHash("sha256")
        .update(Buffer.from([0, 255]))
        .digest("hex"),
    );
    expect(sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});

describe("sha256Bytes", () => {
  test("the same digest as sha256Hex, as its 32 bytes", () => {
    for (const s of ["", "abc", "日本語 😀", new Uint8Array([0, 255])]) {
      const b = sha256Bytes(s);
      expect(b).toHaveLength(32);
      expect(Buffer.from(b).toString("hex")).toBe(sha256Hex(s));
    }
  });
});
