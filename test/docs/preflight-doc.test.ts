/** docs/dstackup.md lists every preflight check by the name `--ignore-preflight-errors` takes, in the order they run. */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CHECK_NAMES } from "../../src/host/install/preflight.ts";
import { ROOT } from "../helpers/run.ts";

test("docs/dstackup.md lists the preflight checks as they run", () => {
  const doc = readFileSync(join(ROOT, "docs/dstackup.md"), "utf8");
  const listed = [...doc.matchAll(/^- `([a-z-]+)`/gm)].map((m) => m[1]!);
  expect(listed).toEqual(CHECK_NAMES);
});
