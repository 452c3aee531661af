import { describe, expect, test } from "bun:test";
import { type ArgsDef, MissingArgumentError, parseArgv } from "../../src/core/argv.ts";
import { UsageError } from "../../src/core/errors.ts";

const defs = {
  vm: { type: "positional", required: true },
  lines: { type: "string", alias: "n", default: "200" },
  follow: { type: "boolean", alias: "f" },
  quiet: { type: "boolean", alias: "q" },
  all: { type: "boolean", alias: "a" },
  port: { type: "string", alias: "p", multiple: true },
  name: { type: "string" },
  "no-kms": { type: "boolean" },
} as const satisfies ArgsDef;

const parse = (...argv: string[]) => parseArgv(argv, defs, "t logs");
const usage = (...argv: string[]) => {
  try {
    parse(...argv);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error(`parsed: ${argv.join(" ")}`);
};

describe("parseArgv", () => {
  test("a short flag's value attached, after =, or next (getopt)", () => {
    for (const argv of [
      ["web", "-n5"],
      ["web", "-n=5"],
      ["web", "-n", "5"],
      ["web", "--lines=5"],
      ["web", "--lines", "5"],
      ["-n5", "web"],
    ]) {
      const a = parse(...argv);
      expect(a.lines).toBe("5");
      expect(a.vm).toBe("web");
    }
  });
  test("clusters: booleans, and the first valued flag takes the rest", () => {
    expect(parse("web", "-qa")).toMatchObject({ quiet: true, all: true });
    expect(parse("web", "-qfn7")).toMatchObject({ quiet: true, follow: true, lines: "7" });
    expect(parse("web", "-qn", "7")).toMatchObject({ quiet: true, lines: "7" });
    expect(usage("web", "-qx")).toContain("unknown flag -x");
  });
  test("--no-x sets a boolean false; a flag named no-x is itself", () => {
    expect(parse("web", "--follow", "--no-follow").follow).toBe(false);
    expect(parse("web", "--no-kms")["no-kms"]).toBe(true);
  });
  test("defaults; absent booleans are undefined; a multiple flag is a list", () => {
    const a = parse("web");
    expect(a.lines).toBe("200");
    expect(a.follow).toBeUndefined();
    expect(a.port).toEqual([]);
    expect(parse("web", "-p", "1", "--port=2", "-p3").port).toEqual(["1", "2", "3"]);
    expect(parse("web", "--name", "a", "--name=b").name).toBe("b");
  });
  test("-- ends the flags; - and negative numbers are values", () => {
    const a = parse("web", "--", "-f", "--lines");
    expect(a.follow).toBeUndefined();
    expect(a._).toEqual(["web", "-f", "--lines"]);
    expect(parse("-", "--name", "-1")).toMatchObject({ vm: "-", name: "-1" });
  });
  test("a positional the command does not take is a usage error (before --; after it they are the command's)", () => {
    expect(usage("web", "extra")).toBe(`"t logs" takes 1 argument: unexpected "extra"`);
    expect(() => parseArgv(["x"], { all: { type: "boolean" } }, "t ps")).toThrow(`"t ps" takes no arguments: unexpected "x"`);
    expect(parse("web", "--", "extra")._).toEqual(["web", "extra"]);
    const many = { vm: { type: "positional", required: true, variadic: true } } as const satisfies ArgsDef;
    expect(parseArgv(["a", "b", "c"], many, "t rm")._).toEqual(["a", "b", "c"]);
  });
  test("unknown flags say what they might have meant", () => {
    expect(usage("web", "--lnes", "3")).toBe('unknown flag --lnes for "t logs" — did you mean --lines?');
    expect(usage("web", "--zzzzzzzz")).toBe('unknown flag --zzzzzzzz for "t logs"');
    expect(usage("web", "--hlep")).toContain("did you mean --help?");
  });
  test("a value missing, or given to a boolean, is a usage error", () => {
    expect(usage("web", "--name")).toBe("flag --name needs a value");
    expect(usage("web", "-n", "--follow")).toBe("flag -n needs a value");
    expect(usage("web", "-n", "--")).toBe("flag -n needs a value");
    expect(usage("web", "--follow=yes")).toBe("flag --follow takes no value (got --follow=yes)");
  });
  test("a missing required argument", () => {
    expect(() => parse()).toThrow(MissingArgumentError);
    expect(() => parse()).toThrow("Missing required positional argument: VM");
    expect(() => parseArgv([], { out: { type: "string", required: true } }, "t")).toThrow("Missing required argument: --out");
  });
});
