import { describe, expect, test } from "bun:test";
import { INCLUDE_COMMENT, includesFile, withInclude } from "../../../src/core/dev-env/ssh-include.ts";

const OURS = "/home/u/.config/dstack-tee/ssh/config";
const USER = "Host box\n    HostName 10.0.0.2\n    User me\n";

describe("Include in ~/.ssh/config", () => {
  test("added on top, before the user's Host blocks, the user's text kept as it was", () => {
    const t = withInclude(USER, OURS, "/home/u")!;
    expect(t).toBe(`${INCLUDE_COMMENT}\nInclude ${OURS}\n\n${USER}`);
    expect(t.endsWith(USER)).toBe(true);
  });

  test("idempotent: a second time changes nothing", () => {
    const t = withInclude(USER, OURS, "/home/u")!;
    expect(withInclude(t, OURS, "/home/u")).toBeUndefined();
  });

  test("an Include the user wrote (~ form, = form, among other files) counts", () => {
    expect(withInclude("Include ~/.config/dstack-tee/ssh/config\n", OURS, "/home/u")).toBeUndefined();
    expect(withInclude("include=other.conf ~/.config/dstack-tee/ssh/config\n", OURS, "/home/u")).toBeUndefined();
  });

  test("an Include inside a Host block applies only there: the top-level one is still added", () => {
    expect(includesFile(`Host box\n  Include ${OURS}\n`, OURS, "/home/u")).toBe(false);
    expect(withInclude(`Host box\n  Include ${OURS}\n`, OURS, "/home/u")).toStartWith(INCLUDE_COMMENT);
  });

  test("no ~/.ssh/config yet: the file is the Include alone; a path with a space is quoted", () => {
    expect(withInclude(undefined, OURS, "/home/u")).toBe(`${INCLUDE_COMMENT}\nInclude ${OURS}\n`);
    expect(withInclude("", "/home/a b/c", "/home/a b")).toContain('Include "/home/a b/c"\n');
  });
});
