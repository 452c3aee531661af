#!/usr/bin/env bun
import { existsSync, linkSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
/**
 * bun run build → dist/dstack (+ a hard link per other tool name in src/tools.ts),
 * dist/dstack-<version>-linux-<arch>.tar.gz and dist/SHA256SUMS.
 * Fails unless every name answers --version.
 */
import { $ } from "bun";
import pkg from "../package.json" with { type: "json" };
import { withLock } from "../src/core/fsutil.ts";

import { tools } from "../src/tools.ts";

/** Every name the multi-call binary answers to; the first is the file, the rest hard links. */
export const NAMES = Object.keys(tools);

const root = join(import.meta.dir, "..");
const finalDist = join(root, "dist");
// Build beside dist/ and swap it in whole, under a lock: concurrent builds (parallel
// test runs) never see a half-written dist/, and a running binary keeps its inode.
const dist = join(root, `.dist-build-${process.pid}`);
const arch = process.arch === "arm64" ? "arm64" : "x64";

/** The compile flags (docs/install.md, "Build"); bench:startup builds its hello-world with the same. */
export const BUILD_FLAGS = [
  "--compile",
  "--minify",
  "--bytecode",
  "--format=esm",
  "--no-compile-autoload-dotenv",
  "--no-compile-autoload-bunfig",
  `--target=bun-linux-${arch}`,
];

async function gitCommit(): Promise<string> {
  if (process.env.DSTACK_COMMIT) return process.env.DSTACK_COMMIT;
  const r = Bun.spawnSync(["git", "rev-parse", "--short=12", "HEAD"], { cwd: root, stderr: "ignore" });
  if (r.exitCode !== 0) return "unknown";
  const dirty = Bun.spawnSync(["git", "status", "--porcelain", "--untracked-files=no"], { cwd: root }).stdout.toString().trim();
  return r.stdout.toString().trim() + (dirty ? "-dirty" : "");
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const commit = await gitCommit();
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(dist, { recursive: true });
  const out = join(dist, "dstack");
  const build = Bun.spawnSync(
    [
      process.execPath,
      "build",
      ...BUILD_FLAGS,
      `--define`,
      `__DSTACK_COMMIT__=${JSON.stringify(commit)}`,
      "--outfile",
      out,
      join(root, "src/main.ts"),
    ],
    { cwd: root, stdout: "pipe", stderr: "pipe" },
  );
  const log = build.stdout.toString() + build.stderr.toString();
  // A bytecode failure is only a log line while the build exits 0 (oven-sh/bun#14954, #21097).
  if (build.exitCode !== 0 || /Failed to generate bytecode/i.test(log)) {
    process.stderr.write(log);
    throw new Error(`bun build failed (exit ${build.exitCode})`);
  }
  for (const name of NAMES.slice(1)) linkSync(out, join(dist, name));

  for (const name of NAMES) {
    const r = Bun.spawnSync([join(dist, name), "--version"], { stdout: "pipe", stderr: "pipe" });
    const text = r.stdout.toString().trim();
    if (r.exitCode !== 0 || !text.startsWith(`${name} ${pkg.version}`)) {
      throw new Error(`dist/${name} --version did not answer (exit ${r.exitCode}): ${text} ${r.stderr.toString()}`);
    }
    console.log(`ok  ${text}`);
  }

  const tarName = `dstack-${pkg.version}-linux-${arch}.tar.gz`;
  // One binary plus links in the archive; tar keeps the hard links, so it unpacks to one file's size.
  await $`tar -C ${dist} --owner=0 --group=0 --numeric-owner -czf ${join(dist, tarName)} ${[...NAMES]}`.quiet();
  const sums: string[] = [];
  for (const f of [tarName, "dstack"]) {
    const h = new Bun.CryptoHasher("sha256");
    h.update(await Bun.file(join(dist, f)).arrayBuffer());
    sums.push(`${h.digest("hex")}  ${f}`);
  }
  await Bun.write(join(dist, "SHA256SUMS"), `${sums.join("\n")}\n`);
  const mb = (p: string) => `${(statSync(p).size / 1e6).toFixed(1)} MB`;
  console.log(
    `built dist/dstack (${mb(out)}), ${tarName} (${mb(join(dist, tarName))}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  if (!existsSync(join(dist, "SHA256SUMS"))) throw new Error("SHA256SUMS missing");
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
