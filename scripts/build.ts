#!/usr/bin/env bun
/**
 * bun run build → dist/dstack (+ a hard link per other tool name in src/tools.ts),
 * dist/dstack-<version>-linux-<arch>.tar.gz and dist/SHA256SUMS, for this machine's target.
 * Fails unless every name answers --version. The release (every target, xz, signature)
 * is scripts/release.ts; both give the same bytes for one commit wherever they run.
 */
import { existsSync, linkSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import pkg from "../package.json" with { type: "json" };
import { withLock } from "../src/core/fsutil.ts";
import { checkVersions } from "./build/check.ts";
import { compile } from "./build/compile.ts";
import { NAMES } from "./build/names.ts";
import { packTar, sha256File } from "./build/pack.ts";
import { gitCommit, sourceDateEpoch } from "./build/source.ts";
import { hostTarget, stem } from "./build/targets.ts";

const root = join(import.meta.dir, "..");
const finalDist = join(root, "dist");
// Build beside dist/ and swap it in whole, under a lock: concurrent builds (parallel
// test runs) never see a half-written dist/, and a running binary keeps its inode.
const dist = join(root, `.dist-build-${process.pid}`);
const arch = process.arch === "arm64" ? "arm64" : "x64";

/**
 * The compile flags as `bun build` CLI flags (docs/install.md, "Build"): build/compile.ts passes
 * the same through Bun.build; bench:startup builds its hello-world with these.
 */
export const BUILD_FLAGS = [
  "--compile",
  "--minify",
  "--bytecode",
  "--format=esm",
  "--no-compile-autoload-dotenv",
  "--no-compile-autoload-bunfig",
  `--target=bun-linux-${arch}`,
];

async function main(): Promise<void> {
  const t0 = performance.now();
  const target = hostTarget();
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(dist, { recursive: true });
  const out = join(dist, "dstack");
  await compile(root, target, out, gitCommit(root));
  for (const name of NAMES.slice(1)) linkSync(out, join(dist, name));
  for (const line of checkVersions(dist, NAMES, pkg.version)) console.log(`ok  ${line}`);

  const s = stem(pkg.version, target);
  const tarName = `${s}.tar.gz`;
  await packTar(dist, NAMES, join(dist, tarName), "gz", sourceDateEpoch(root));
  await Bun.write(join(dist, "SHA256SUMS"), `${sha256File(join(dist, tarName))}  ${tarName}\n${sha256File(out)}  ${s}/dstack\n`);
  const mb = (p: string) => `${(statSync(p).size / 1e6).toFixed(1)} MB`;
  console.log(
    `built dist/dstack (${mb(out)}), ${tarName} (${mb(join(dist, tarName))}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const old = join(root, `.dist-old-${process.pid}`);
  if (existsSync(finalDist)) renameSync(finalDist, old);
  renameSync(dist, finalDist);
  rmSync(old, { recursive: true, force: true });
}

if (import.meta.main) {
  withLock(join(root, ".dist"), main, { timeoutMs: 300_000 }).catch((e) => {
    rmSync(dist, { recursive: true, force: true });
    console.error(`build: ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  });
}
