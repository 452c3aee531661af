import { describe, expect, test } from "bun:test";
import { formatPath, loadYaml11, resolvePlain, YamlSyntaxError } from "../../../../src/core/dstack-yml/yaml/yaml11.ts";

describe("YAML 1.1 plain scalars, as PyYAML's safe_load resolves them", () => {
  const cases: [string, unknown][] = [
    ["off", false],
    ["Off", false],
    ["OFF", false],
    ["no", false],
    ["No", false],
    ["false", false],
    ["on", true],
    ["yes", true],
    ["YES", true],
    ["True", true],
    ["y", "y"],
    ["n", "n"],
    ["oFF", "oFF"],
    ["~", null],
    ["null", null],
    ["", null],
    ["8080", 8080],
    ["-12", -12],
    ["1_000", 1000],
    ["0755", 493],
    ["08", "08"],
    ["0x1F", 31],
    ["0b101", 5],
    ["1:30", 90],
    ["2222:22", 133342],
    ["80:8080", "80:8080"],
    ["3.10", 3.1],
    ["1.", 1],
    [".5", 0.5],
    ["1e5", "1e5"],
    ["1.0e+5", 100000],
    ["1.0e5", "1.0e5"],
    ["24GB", "24GB"],
    ["H100:8", "H100:8"],
  ];
  for (const [text, want] of cases) {
    test(`${JSON.stringify(text)} → ${JSON.stringify(want)}`, () => expect(resolvePlain(text)).toEqual(want as never));
  }
  test(".inf and .nan", () => {
    expect(resolvePlain(".inf")).toBe(Number.POSITIVE_INFINITY);
    expect(resolvePlain("-.inf")).toBe(Number.NEGATIVE_INFINITY);
    expect(Number.isNaN(resolvePlain(".nan"))).toBe(true);
  });
});

describe("loadYaml11", () => {
  test("quoted and block scalars stay strings", () => {
    const { value } = loadYaml11("a: 'off'\nb: \"8080\"\nc: |\n  yes\nd: off\n");
    expect(value).toEqual({ a: "off", b: "8080", c: "yes\n", d: false });
  });
  test("!!str keeps a plain scalar a string", () => {
    expect(loadYaml11("a: !!str off\n").value).toEqual({ a: "off" });
  });
  test("lines of keys and items", () => {
    const l = loadYaml11("type: task\n\ncommands:\n  - echo a\n  - echo b\nresources:\n  gpu: 24GB\n");
    expect(l.lineOf(["type"])).toBe(1);
    expect(l.lineOf(["commands"])).toBe(3);
    expect(l.lineOf(["commands", 1])).toBe(5);
    expect(l.lineOf(["resources", "gpu"])).toBe(7);
    expect(l.lineOf(["resources", "gpu", "count"])).toBe(7);
    expect(l.lineOf([])).toBe(1);
  });
  test("aliases and << merges (explicit keys win)", () => {
    const l = loadYaml11("base: &b\n  a: 1\n  b: 2\nx:\n  <<: *b\n  b: 3\ny: *b\n");
    expect(l.value).toEqual({ base: { a: 1, b: 2 }, x: { a: 1, b: 3 }, y: { a: 1, b: 2 } });
  });
  test("duplicate keys: the last wins, as in PyYAML", () => {
    expect(loadYaml11("a: 1\na: 2\n").value).toEqual({ a: 2 });
  });
  test("an empty text is null", () => expect(loadYaml11("").value).toBeNull());
  test("a second document is an error with its line", () => {
    try {
      loadYaml11("a: 1\n---\nb: 2\n");
      throw new Error("no error");
    } catch (e) {
      expect(e).toBeInstanceOf(YamlSyntaxError);
      expect((e as YamlSyntaxError).message).toContain("expected a single document");
      expect((e as YamlSyntaxError).line).toBe(2);
    }
  });
  test("bad YAML is an error with its line", () => {
    try {
      loadYaml11("a: 1\nb: [1, 2\n");
      throw new Error("no error");
    } catch (e) {
      expect(e).toBeInstanceOf(YamlSyntaxError);
      expect((e as YamlSyntaxError).line).toBeGreaterThanOrEqual(2);
    }
  });
  test("__proto__ is an ordinary key", () => {
    const v = loadYaml11("__proto__: 1\n").value as Record<string, unknown>;
    expect(Object.hasOwn(v, "__proto__")).toBe(true);
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
  });
});

test("formatPath", () => {
  expect(formatPath([])).toBe("(top level)");
  expect(formatPath(["resources", "gpu"])).toBe("resources.gpu");
  expect(formatPath(["commands", 2])).toBe("commands[2]");
  expect(formatPath(["volumes", 0, "path"])).toBe("volumes[0].path");
});
