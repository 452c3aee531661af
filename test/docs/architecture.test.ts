/** docs/architecture.md stays true to the tree: its rules table is scripts/check-deps.ts's RULES, its room map names every folder. */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { RULES } from "../../scripts/check-deps.ts";
import { ROOT } from "../helpers/run.ts";

const doc = readFileSync(join(ROOT, "docs/architecture.md"), "utf8");

/** The rows `| \`room\` | \`a\`, \`b\` |` (or `nothing`) of the doc's rules table. */
function documentedRules(text: string): Record<string, string[]> {
  const rules: Record<string, string[]> = {};
  for (const m of text.matchAll(/^\|\s*`([a-z]+)`\s*\|([^|\n]*)\|\s*$/gm)) {
    rules[m[1]!] = [...m[2]!.matchAll(/`([a-z]+)`/g)].map((x) => x[1]!);
  }
  return rules;
}

function folders(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? [join(dir, e.name), ...folders(join(dir, e.name))] : [],
  );
}

describe("docs/architecture.md", () => {
  test("its dependency rules are check-deps' RULES", () => {
    expect(documentedRules(doc)).toEqual(RULES);
  });

  test("its room map names every folder under src/", () => {
    const missing = folders(join(ROOT, "src"))
      .map((f) => `${relative(ROOT, f)}/`)
      .filter((f) => !doc.includes(`\`${f}\``));
    expect(missing).toEqual([]);
  });

  test("the table reader sees a changed rule", () => {
    expect(documentedRules("| `core` | nothing |\n| `sim` | `core`, `host` |\n")).toEqual({ core: [], sim: ["core", "host"] });
  });
});
