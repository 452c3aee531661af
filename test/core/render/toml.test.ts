import { describe, expect, test } from "bun:test";
import { parse } from "smol-toml";
import { parseToml, renderToml, TomlParseError } from "../../../src/core/render/toml.ts";

const VMM_LIKE = {
  workers: 8,
  address: "tcp:127.0.0.1:9080",
  kms_url: "",
  run_path: "/var/lib/dstack/vm",
  image: { path: "/var/lib/dstack/images" },
  cvm: {
    kms_urls: ["https://10.0.2.2:8000"],
    gateway_urls: [],
    cid_start: 1000,
    cid_pool_size: 1000,
    max_allocable_memory_in_mb: 100000,
    qemu_path: "/usr/bin/qemu-system-x86_64",
    networking: { mode: "user", net: "10.0.2.0/24", restrict: false },
    port_mapping: { enabled: true, address: "127.0.0.1", range: [{ protocol: "tcp", from: 1, to: 20000 }] },
  },
  auth: { enabled: true, tokens: ['t0k"en\\x'] },
};

describe("renderToml", () => {
  test("header comment, key order as given, no _ separators, parses back", () => {
    const text = renderToml(VMM_LIKE, "Rendered by dstackup\n\ndo not edit");
    expect(text.startsWith("# Rendered by dstackup\n#\n# do not edit\n\n")).toBe(true);
    expect(text).toContain("cid_start = 1000\n");
    expect(text).toContain("max_allocable_memory_in_mb = 100000\n");
    expect(text).not.toMatch(/= [0-9_]*\d_\d/);
    expect(text.indexOf("workers")).toBeLessThan(text.indexOf("address"));
    expect(text.indexOf("address = ")).toBeLessThan(text.indexOf("kms_url"));
    expect(text.indexOf("[image]")).toBeLessThan(text.indexOf("[cvm]"));
    expect(text.indexOf("kms_urls")).toBeLessThan(text.indexOf("cid_start"));
    expect(text).toContain('[[cvm.port_mapping.range]]\nprotocol = "tcp"\nfrom = 1\nto = 20000\n');
    expect(text.endsWith("\n")).toBe(true);
    expect(parse(text)).toEqual(VMM_LIKE as never);
    expect(renderToml(VMM_LIKE, "Rendered by dstackup\n\ndo not edit")).toBe(text); // deterministic
  });
  test("strings with quotes, newlines, DEL, unicode survive", () => {
    const obj = { s: 'a"b\\c\nd\te\u007f\u0001 ü 日本 😀', k: { "dotted.key": "x", "with space": 1 } };
    const text = renderToml(obj);
    expect(parse(text)).toEqual(obj as never);
  });
  test("undefined members are omitted; bigint and dates round-trip", () => {
    const text = renderToml({ a: 1, b: undefined, big: 2n ** 60n, t: { c: undefined, d: true } });
    expect(text).not.toContain("b =");
    expect(parse(text, { integersAsBigInt: "asNeeded" })).toEqual({ a: 1, big: 2n ** 60n, t: { d: true } } as never);
  });
  test("what TOML cannot say is an error naming the key", () => {
    expect(() => renderToml({ a: { b: null } })).toThrow(/no null: a\.b/);
    expect(() => renderToml({ a: NaN })).toThrow(/NaN is not allowed \(at a\)/);
    expect(() => renderToml({ a: Infinity })).toThrow(/Infinity/);
    expect(() => renderToml({ a: 2 ** 60 })).toThrow(/too large/);
    expect(() => renderToml({ a: ["x", undefined] })).toThrow(/a\.1/);
    expect(() => renderToml({ s: "\ud800" })).toThrow(/lone UTF-16 surrogate at s/);
    expect(() => renderToml({ f: () => 1 })).toThrow(/function/);
  });
  test("an empty object renders to the header only", () => {
    expect(renderToml({}, "x")).toBe("# x\n");
    expect(renderToml({ t: { a: 1 } })).toBe("[t]\na = 1\n");
  });
});

describe("parseToml", () => {
  test("parses", () => {
    expect(parseToml('a = 1\n[t]\nb = "x"\n')).toEqual({ a: 1, t: { b: "x" } });
  });
  const bad: [string, number][] = [
    ["a = 1\nb = [1,\nc = }\n", 3],
    ["a = 1\na = 2\n", 2],
    ['\n\n\nkey = "unterminated\n', 4],
    ["[t]\nx = 1\n[t]\n", 3],
  ];
  for (const [text, line] of bad) {
    test(`error on line ${line}: ${JSON.stringify(text)}`, () => {
      let err: unknown;
      try {
        parseToml(text, "/etc/dstack/vmm.toml");
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(TomlParseError);
      const e = err as TomlParseError;
      expect(e.line).toBe(line);
      expect(e.message).toMatch(new RegExp(`^/etc/dstack/vmm\\.toml: line ${line}, column \\d+: \\S`));
      expect(e.message).not.toContain("\n");
      expect(e.exitCode).toBe(1);
    });
  }
});
