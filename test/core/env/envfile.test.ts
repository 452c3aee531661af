import { describe, expect, test } from "bun:test";
import { mergeEnv, parseEnvArg, parseEnvFile } from "../../../src/core/env/envfile.ts";
import { UsageError } from "../../../src/core/errors.ts";

describe("parseEnvArg (-e)", () => {
  test("KEY=VALUE, empty value, = in value, KEY from the environment", () => {
    expect(parseEnvArg("A=1")).toEqual({ key: "A", value: "1" });
    expect(parseEnvArg("A=")).toEqual({ key: "A", value: "" });
    expect(parseEnvArg("A=x=y")).toEqual({ key: "A", value: "x=y" });
    expect(parseEnvArg("TOKEN", { TOKEN: "s3" })).toEqual({ key: "TOKEN", value: "s3" });
  });
  test("errors name the flag and key, never a value", () => {
    expect(() => parseEnvArg("TOKEN", {})).toThrow(/--env TOKEN: no value given and TOKEN is not set/);
    expect(() => parseEnvArg("1A=secretvalue", {}, "-e")).toThrow(UsageError);
    try {
      parseEnvArg("BAD-NAME=secretvalue");
    } catch (e) {
      expect((e as Error).message).toContain('"BAD-NAME"');
      expect((e as Error).message).not.toContain("secretvalue");
    }
  });
});

describe("parseEnvFile (--env-file)", () => {
  test("the format", () => {
    const text = [
      "\uFEFF# comment",
      "",
      "A=plain value  # trailing comment",
      "export B=exported",
      'C="double \\"quoted\\" \\n line\\t$HOME \\\\ #notcomment" # c',
      "D='single $NOPE \\n'",
      "E=",
      "F=a#b",
      "  G = spaced ",
      "FROM_ENV",
      "A=override",
    ].join("\r\n");
    expect(parseEnvFile(text, "app.env", { FROM_ENV: "env!" })).toEqual([
      { key: "B", value: "exported" },
      { key: "C", value: 'double "quoted" \n line\t$HOME \\ #notcomment' },
      { key: "D", value: "single $NOPE \\n" },
      { key: "E", value: "" },
      { key: "F", value: "a#b" },
      { key: "G", value: "spaced" },
      { key: "FROM_ENV", value: "env!" },
      { key: "A", value: "override" },
    ]);
  });
  const bad: [string, RegExp][] = [
    ["OK=1\nBAD-KEY=x", /app\.env:2: invalid env name "BAD-KEY"/],
    ['A="unterminated', /app\.env:1: unterminated double-quoted value/],
    ["A='x", /app\.env:1: unterminated single-quoted value/],
    ['A="x" y', /app\.env:1: unexpected text after the quoted value of A/],
    ["\n\nMISSING", /app\.env:3: MISSING has no value and is not set/],
    ["=x", /app\.env:1: invalid env name ""/],
  ];
  for (const [text, re] of bad) {
    test(`rejects ${JSON.stringify(text)}`, () => {
      expect(() => parseEnvFile(text, "app.env", {})).toThrow(re);
    });
  }
  test("mergeEnv: later wins", () => {
    expect(
      mergeEnv(
        [
          { key: "A", value: "1" },
          { key: "B", value: "2" },
        ],
        [{ key: "A", value: "3" }],
      ),
    ).toEqual([
      { key: "B", value: "2" },
      { key: "A", value: "3" },
    ]);
  });
});
