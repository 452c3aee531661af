/** docs/dstackup.md lists every preflight check by its name, the one `--ignore-preflight-errors` takes. */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CHECK_NAMES } from "../../src/host/install/preflight.ts";
import { ROOT } from "../helpers/run.ts";

test("docs/dstackup.md names every preflight check", () => {
  const doc = readFileSync(join(ROOT, "docs/dstackup.md"), "utf8");
  expect(CHECK_NAMES.filter((name) => !doc.includes(`\`${name}\``))).toEqual([]);
});
