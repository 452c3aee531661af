#!/usr/bin/env bun
/**
 * bun scripts/release-verify.ts --sums SHA256SUMS|URL [--ref TAG]
 *
 * Rebuilds a release from its tag, in a clean worktree anywhere, with that tag's own
 * scripts and locked dependencies, and compares every asset with the published checksums:
 * a reproducible release gives the same bytes. Exits 1 on any difference.
 * Check the signature of SHA256SUMS itself first (docs/releases.md). CI runs it on its own
 * local build: --sums dist/release/SHA256SUMS --ref HEAD.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const root = join(import.meta.dir, "..");

/** name → sha256 from a SHA256SUMS text */
export function parseSums(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split("\n")) {
    const r = /^([0-9a-f]{64}) [ *](.+)$/.exec(line.trim());
    if (r) m.set(r[2]!, r[1]!);
  }
  return m;
}

/** The targets a SHA256SUMS lists tarballs for, e.g. ["linux-x64", "darwin-arm64"]. */
export function targetsIn(sums: Map<string, string>): string[] {
  const t = new Set<string>();
  for (const n of sums.keys()) {
    const r = /^dstack-[^/]+?-((?:linux|darwin)-(?:x64|arm64))\.tar\.(?:gz|xz)$/.exec(n);
    if (r) t.add(r[1]!);
  }
  return [...t].sort();
}

/** Each published asset against the rebuilt one: same, different, or not rebuilt. */
export function compareSums(published: Map<string, string>, rebuilt: Map<string, string>): { name: string; verdict: string }[] {
  return [...published].map(([name, sum]) => ({
    name,
    verdict: !rebuilt.has(name) ? "not rebuilt" : rebuilt.get(name) === sum ? "same" : "DIFFERENT",
  }));
}

async function readSums(src: string): Promise<string> {
  if (!/^https?:\/\//.test(src)) return readFileSync(src, "utf8");
  const r = await fetch(src);
  if (!r.ok) throw new Error(`${src}: HTTP ${r.status}`);
  return r.text();
}

function run(argv: string[], cwd: string): void {
  const r = Bun.spawnSync(argv, { cwd, stdout: "inherit", stderr: "inherit" });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")} failed (exit ${r.exitCode})`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { sums: { type: "string" }, ref: { type: "string", default: "HEAD" } } });
  if (!values.sums) throw new Error("--sums SHA256SUMS|URL is required");
  const published = parseSums(await readSums(values.sums));
  const targets = targetsIn(published);
  if (targets.length === 0) throw new Error(`${values.sums} lists no release tarballs`);
  const tree = mkdtempSync(join(tmpdir(), "dstack-rebuild-"));
  try {
    run(["git", "worktree", "add", "--quiet", "--detach", tree, values.ref!], root);
    run([process.execPath, "install", "--frozen-lockfile"], tree);
    run([process.execPath, "scripts/release.ts", "--out", join(tree, "out"), "--targets", targets.join(",")], tree);
    const rebuilt = parseSums(readFileSync(join(tree, "out", "SHA256SUMS"), "utf8"));
    const rows = compareSums(published, rebuilt);
    for (const r of rows) console.log(`${r.verdict.padEnd(11)} ${r.name}`);
    const bad = rows.filter((r) => r.verdict !== "same");
    console.log(
      bad.length === 0
        ? `reproduced: all ${rows.length} assets are the same bytes`
        : `NOT reproduced: ${bad.length} of ${rows.length} differ`,
    );
    return bad.length === 0 ? 0 : 1;
  } finally {
    Bun.spawnSync(["git", "worktree", "remove", "--force", tree], { cwd: root });
    rmSync(tree, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  main().then(
    (code) => process.exit(code),
    (e) => {
      console.error(`release-verify: ${e instanceof Error ? e.message : e}`);
      process.exit(1);
    },
  );
}
