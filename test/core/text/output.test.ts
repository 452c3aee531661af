import { describe, expect, test } from "bun:test";
import { ellipsis, formatTable, redrawFrame } from "../../../src/core/text/output.ts";

describe("ellipsis (docker's formatter.Ellipsis)", () => {
  test("longer than max: max characters, the last one …; shorter or equal: unchanged", () => {
    expect(ellipsis("abcdefghij", 5)).toBe("abcd…");
    expect(ellipsis("abcde", 5)).toBe("abcde");
    expect(ellipsis("abc", 5)).toBe("abc");
    expect(ellipsis("abc", 1)).toBe("a");
    expect(ellipsis("abc", 0)).toBe("");
    expect(ellipsis("ééééé-ü", 4)).toBe("ééé…"); // characters, not bytes
  });
});

describe("formatTable", () => {
  const cols = [
    { header: "NAME", get: (r: string[]) => r[0]!, max: 6 },
    { header: "NOTE", get: (r: string[]) => r[1]! },
  ];
  test("trunc cuts only the columns with a max; the columns stay aligned", () => {
    expect(formatTable([["a-long-name", "a note that is long"]], cols, { trunc: true })).toBe(
      "NAME     NOTE\na-lon…   a note that is long\n",
    );
  });
  test("without trunc every cell is whole", () => {
    expect(formatTable([["a-long-name", "x"]], cols)).toBe("NAME          NOTE\na-long-name   x\n");
  });
});

describe("redrawFrame", () => {
  test("the first frame clears the screen; each starts top-left, erases each line's rest and what is below", () => {
    expect(redrawFrame("A\nB\n", true)).toBe("\x1b[2J\x1b[HA\x1b[K\nB\x1b[K\n\x1b[J");
    expect(redrawFrame("A\n", false)).toBe("\x1b[HA\x1b[K\n\x1b[J");
  });
});
