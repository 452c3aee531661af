import { describe, expect, test } from "bun:test";
import { NAMES, namesFor } from "../../scripts/build/names.ts";
import { bunTarget, findTarget, stem, TARGETS, targetId } from "../../scripts/build/targets.ts";

describe("release targets", () => {
  test("Linux x64/arm64 carry every tool in gz and xz; macOS arm64/x64 the client alone in xz", () => {
    expect(TARGETS.map((t) => `${targetId(t)}:${t.formats.join("+")}:${namesFor(t).join(",")}`)).toEqual([
      `linux-x64:gz+xz:${NAMES.join(",")}`,
      `linux-arm64:gz+xz:${NAMES.join(",")}`,
      "darwin-arm64:xz:dstack",
      "darwin-x64:xz:dstack",
    ]);
    expect(NAMES[0]).toBe("dstack"); // the file; the rest are links to it
    expect(NAMES).toContain("dstackup");
  });

  test("names: the asset stem install.sh asks for, Bun's target, an unknown target", () => {
    expect(stem("0.1.0", findTarget("darwin-arm64"))).toBe("dstack-0.1.0-darwin-arm64");
    expect(bunTarget(findTarget("linux-arm64"))).toBe("bun-linux-arm64");
    expect(() => findTarget("windows-x64")).toThrow(
      /unknown target windows-x64 \(known: linux-x64, linux-arm64, darwin-arm64, darwin-x64\)/,
    );
  });
});
