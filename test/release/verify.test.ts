import { describe, expect, test } from "bun:test";
import { compareSums, parseSums, targetsIn } from "../../scripts/release-verify.ts";

const A = "a".repeat(64);
const B = "b".repeat(64);

describe("release-verify", () => {
  test("reads SHA256SUMS (text and binary marks), finds the targets, compares asset by asset", () => {
    const pub = parseSums(
      `${A}  dstack-0.1.0-linux-x64.tar.gz\n${B} *dstack-0.1.0-darwin-arm64.tar.xz\n${A}  dstack-0.1.0-linux-x64/dstack\n${B}  install.sh\n`,
    );
    expect(pub.get("dstack-0.1.0-darwin-arm64.tar.xz")).toBe(B);
    expect(targetsIn(pub)).toEqual(["darwin-arm64", "linux-x64"]);
    const rebuilt = new Map(pub);
    rebuilt.set("install.sh", A);
    rebuilt.delete("dstack-0.1.0-linux-x64/dstack");
    expect(compareSums(pub, rebuilt)).toEqual([
      { name: "dstack-0.1.0-linux-x64.tar.gz", verdict: "same" },
      { name: "dstack-0.1.0-darwin-arm64.tar.xz", verdict: "same" },
      { name: "dstack-0.1.0-linux-x64/dstack", verdict: "not rebuilt" },
      { name: "install.sh", verdict: "DIFFERENT" },
    ]);
  });
});
