/** Every relative link in README.md and docs/ points at a file that exists, and at a heading that exists there. */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { ROOT } from "../helpers/run.ts";
import { anchors, docs, linkTargets, slug } from "./markdown.ts";

/** The broken relative links of one doc, as `target: why`. */
function brokenLinks(path: string, text: string): string[] {
  const broken: string[] = [];
  for (const target of linkTargets(text)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
    const [file = "", anchor] = target.split("#", 2);
    const abs = file === "" ? join(ROOT, path) : join(ROOT, dirname(path), file);
    if (!abs.startsWith(`${ROOT}/`) || !existsSync(abs)) {
      broken.push(`${target}: no file ${relative(ROOT, abs)}`);
      continue;
    }
    if (anchor !== undefined && statSync(abs).isFile() && abs.endsWith(".md") && !anchors(readFileSync(abs, "utf8")).has(anchor)) {
      broken.push(`${target}: no heading #${anchor} in ${relative(ROOT, abs)}`);
    }
  }
  return broken;
}

describe("doc links", () => {
  for (const doc of docs()) {
    test(`${doc.path}: relative links resolve`, () => {
      expect(brokenLinks(doc.path, doc.text)).toEqual([]);
    });
  }

  test("the README links every page under docs/", () => {
    const readme = docs().find((d) => d.path === "README.md")!;
    const linked = new Set(linkTargets(readme.text).map((t) => t.split("#")[0]));
    const pages = docs().flatMap((d) => (d.path.startsWith("docs/") ? [d.path] : []));
    expect(pages.filter((p) => !linked.has(p))).toEqual([]);
  });

  test("the checker catches a missing file, a missing heading, and passes good links", () => {
    const text = "[a](docs/nope.md) [b](docs/dstack.md#no-such-heading) [c](docs/dstack.md#verbs) [d](https://x.invalid/y) `[e](nope.md)`";
    expect(brokenLinks("README.md", text)).toEqual([
      "docs/nope.md: no file docs/nope.md",
      "docs/dstack.md#no-such-heading: no heading #no-such-heading in docs/dstack.md",
    ]);
    expect(slug("dstack-auth — the `KMS` auth webhook")).toBe("dstack-auth--the-kms-auth-webhook");
  });
});
