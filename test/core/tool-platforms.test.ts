import { describe, expect, test } from "bun:test";
import { refusalOn } from "../../src/core/tool-platforms.ts";

describe("refusalOn", () => {
  test("every tool runs on Linux; on macOS only the client does, the others say what to run instead", () => {
    for (const t of ["dstack", "dstackup", "dstack-auth", "dstack-vmm-sim"]) expect(refusalOn(t, "linux")).toBeUndefined();
    expect(refusalOn("dstack", "darwin")).toBeUndefined();
    for (const t of ["dstackup", "dstack-auth", "dstack-vmm-sim"]) {
      const m = refusalOn(t, "darwin");
      expect(m).toContain(`${t} runs on the Linux host it sets up, not on darwin`);
      expect(m).toContain("dstack --host ssh://");
    }
  });
});
