/** The README's exit-code table lists exactly the codes the tools exit with (src/core/errors.ts). */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ExitCode } from "../../src/core/errors.ts";
import { ROOT } from "../helpers/run.ts";

test("README's exit codes are ExitCode's", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const documented = [...readme.matchAll(/^\| (\d+) \| [^|\n]+ \|$/gm)].map((m) => Number(m[1]));
  expect(documented).toEqual(Object.values(ExitCode));
});
