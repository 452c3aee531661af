/** Every package in package.json has a row in the README's dependency table saying why it is there. */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../helpers/run.ts";

test("the README's dependency table names every dependency and devDependency", () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  const names = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})];
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const table = readme.slice(readme.indexOf("## Dependencies"));
  // A row's second cell lists its packages: `| need | pkg-a, pkg-b | why |`.
  const listed = new Set(
    [...table.matchAll(/^\|[^|\n]*\|([^|\n]*)\|/gm)].flatMap((m) => m[1]!.split(",").map((p) => p.trim().replace(/`/g, ""))),
  );
  expect(names.filter((n) => !listed.has(n))).toEqual([]);
});
