/**
 * Comments cite what a reader can open: upstream source paths (`Dstack-TEE/dstack: dstack/vmm/src/app.rs`)
 * or this repository's files, never fact-sheet sections (`§7.2`) or documents outside the repository.
 */
import { expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { ROOT } from "../helpers/run.ts";

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === "fixtures" || p === join(ROOT, "test/docs") ? [] : sources(p);
    return e.name.endsWith(".ts") ? [p] : [];
  });
}

/** The citations in one text that a reader of this repository cannot follow. */
function deadCitations(text: string): string[] {
  // A section of a public standard (RFC 5280 §4.1.2.5) is fine; a bare § points at a fact sheet.
  const dead = [...text.matchAll(/[^\n]{0,30}§[^\n]{0,20}/g)].map((m) => m[0].trim()).filter((c) => !/\bRFC \d+ §/.test(c));
  // Upstream citations name another repository's files: `Dstack-TEE/dstack: sdk/curl/api.md`.
  const local = text.replace(/\b[\w-]+\/[\w.-]+: [^\s)]+/g, "");
  for (const m of local.matchAll(/(?<![\w/.-])((?:[\w.-]+\/)*[\w.-]+\.md)\b/g)) {
    if (!existsSync(join(ROOT, m[1]!))) dead.push(m[1]!);
  }
  return dead;
}

/** Upstream's top-level folders at its HEAD (its sources moved under dstack/ in 72d9f066). */
const UPSTREAM_ROOTS = ["dstack/", "sdk/", "os/", "examples/", "docs/", "tools/", "test-suites/"];

/** `Dstack-TEE/dstack: PATH` citations whose PATH is not where upstream keeps it now (`vmm/src/app.rs`). */
function staleUpstreamPaths(text: string): string[] {
  const flat = text.replace(/\n\s*(\*|\/\/)\s*/g, " ");
  return [...flat.matchAll(/Dstack-TEE\/dstack: `?([\w.-]+\/[^\s`),]*)/g)]
    .map((m) => m[1]!)
    .filter((path) => !UPSTREAM_ROOTS.some((root) => path.startsWith(root)));
}

test("upstream citations in src, test, scripts and the docs use upstream's current paths", () => {
  const files = [...["src", "test", "scripts"].flatMap((d) => sources(join(ROOT, d))), join(ROOT, "README.md")];
  for (const n of readdirSync(join(ROOT, "docs"))) if (n.endsWith(".md")) files.push(join(ROOT, "docs", n));
  const found = files.flatMap((f) => staleUpstreamPaths(readFileSync(f, "utf8")).map((c) => `${relative(ROOT, f)}: ${c}`));
  expect(found).toEqual([]);
  expect(staleUpstreamPaths("// (Dstack-TEE/dstack:\n * vmm/src/app.rs) and Dstack-TEE/dstack: `dstack/vmm/src/main.rs`")).toEqual([
    "vmm/src/app.rs",
  ]);
});

test("src, test and scripts cite no fact sheet or document outside the repository", () => {
  const found = ["src", "test", "scripts"].flatMap((d) =>
    sources(join(ROOT, d)).flatMap((f) => deadCitations(readFileSync(f, "utf8")).map((c) => `${relative(ROOT, f)}: ${c}`)),
  );
  expect(found).toEqual([]);
});

test("README.md and docs/ cite no fact-sheet section", () => {
  const pages = ["README.md", ...readdirSync(join(ROOT, "docs")).flatMap((n) => (n.endsWith(".md") ? [`docs/${n}`] : []))];
  const found = pages.flatMap((p) =>
    deadCitations(readFileSync(join(ROOT, p), "utf8").replace(/[\w./-]+\.md\b/g, "")).map((c) => `${p}: ${c}`),
  );
  expect(found).toEqual([]);
});

test("the citation check catches a section sign and a document that is not here", () => {
  expect(
    deadCitations(
      "// the VMM's rule (vmm.md §7.1)\n// see docs/architecture.md and README.md (RFC 5280 §4.1)\n// DESIGN.md, Dstack-TEE/dstack: sdk/curl/api.md",
    ),
  ).toEqual(["// the VMM's rule (vmm.md §7.1)", "vmm.md", "DESIGN.md"]);
});
