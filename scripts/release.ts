#!/usr/bin/env bun
/**
 * bun scripts/release.ts [--out DIR] [--targets linux-x64,…] [--sign-key FILE]
 *
 * Builds a release in the layout install.sh reads (the assets of one GitHub release):
 *   dstack-<v>-linux-{x64,arm64}.tar.{gz,xz}   every tool (dstack + the dstackup, dstack-auth… links)
 *   dstack-<v>-darwin-{arm64,x64}.tar.xz        the client alone
 *   install.sh, SHA256SUMS (every asset, and each target's binary as <stem>/dstack)
 *   SHA256SUMS.sig                              with --sign-key: ssh-keygen -Y sign, namespace dstack-release
 * Binaries this machine can run answer --version first (linux-arm64 through qemu-user when present).
 * The same commit gives the same bytes anywhere (scripts/release-verify.ts checks a published one).
 */
import { copyFileSync, linkSync, mkdirSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import pkg from "../package.json" with { type: "json" };
import { RELEASE_NAMESPACE } from "../src/core/signing-key.ts";
import { signFile } from "../src/host/signature.ts";
import { checkVersions } from "./build/check.ts";
import { compile } from "./build/compile.ts";
import { namesFor } from "./build/names.ts";
import { packTar, sha256File } from "./build/pack.ts";
import { gitCommit, sourceDateEpoch } from "./build/source.ts";
import { findTarget, hostTarget, stem, TARGETS, type Target, targetId } from "./build/targets.ts";

const root = join(import.meta.dir, "..");

/** How to run a target's binary here, or undefined when this machine cannot. */
function runnerFor(t: Target): string[] | undefined {
  const host = hostTarget();
  if (targetId(t) === targetId(host)) return [];
  if (t.os === "linux" && t.arch === "arm64" && Bun.which("qemu-aarch64-static"))
    return ["qemu-aarch64-static", "-L", "/usr/aarch64-linux-gnu"];
  return undefined;
}

export interface ReleaseOptions {
  out: string;
  targets: Target[];
  signKey?: string | undefined;
  log?: (line: string) => void;
}

export async function buildRelease(o: ReleaseOptions): Promise<string[]> {
  const log = o.log ?? ((l: string) => console.log(l));
  const commit = gitCommit(root);
  const mtime = sourceDateEpoch(root);
  rmSync(o.out, { recursive: true, force: true });
  mkdirSync(o.out, { recursive: true });
  const sums: string[] = [];
  const work = join(o.out, ".work");
  for (const t of o.targets) {
    const t0 = performance.now();
    const s = stem(pkg.version, t);
    const dir = join(work, targetId(t));
    mkdirSync(dir, { recursive: true });
    const bin = join(dir, "dstack");
    await compile(root, t, bin, commit);
    const names = namesFor(t);
    for (const n of names.slice(1)) linkSync(bin, join(dir, n));
    const runner = runnerFor(t);
    if (runner) checkVersions(dir, names, pkg.version, runner);
    sums.push(`${sha256File(bin)}  ${s}/dstack`);
    await Promise.all(t.formats.map((c) => packTar(dir, names, join(o.out, `${s}.tar.${c}`), c, mtime)));
    for (const c of t.formats) sums.push(`${sha256File(join(o.out, `${s}.tar.${c}`))}  ${s}.tar.${c}`);
    const sizes = t.formats.map((c) => `${c} ${(statSync(join(o.out, `${s}.tar.${c}`)).size / 1e6).toFixed(1)} MB`).join(", ");
    log(`${targetId(t)}: ${runner ? "runs, " : ""}${sizes} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  rmSync(work, { recursive: true, force: true });
  copyFileSync(join(root, "install.sh"), join(o.out, "install.sh"));
  sums.push(`${sha256File(join(o.out, "install.sh"))}  install.sh`);
  sums.sort((a, b) => (a.slice(66) < b.slice(66) ? -1 : 1));
  await Bun.write(join(o.out, "SHA256SUMS"), `${sums.join("\n")}\n`);
  if (o.signKey) {
    await signFile(join(o.out, "SHA256SUMS"), o.signKey, RELEASE_NAMESPACE);
    log("signed SHA256SUMS → SHA256SUMS.sig");
  }
  return sums;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: { out: { type: "string", default: "dist/release" }, targets: { type: "string" }, "sign-key": { type: "string" } },
  });
  try {
    const targets = values.targets ? values.targets.split(",").map(findTarget) : TARGETS;
    await buildRelease({ out: resolve(values.out), targets, signKey: values["sign-key"] });
  } catch (e) {
    console.error(`release: ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  }
}
