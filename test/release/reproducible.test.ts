/**
 * Two builds of one commit give the same bytes, wherever the checkout sits (Bun would
 * otherwise bake the build directory into the binary), and so do their tarballs.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { chmodSync, cpSync, linkSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compile } from "../../scripts/build/compile.ts";
import { packTar, sha256File } from "../../scripts/build/pack.ts";
import { gitCommit, sourceDateEpoch } from "../../scripts/build/source.ts";
import { hostTarget } from "../../scripts/build/targets.ts";
import { ROOT } from "../helpers/run.ts";

const work = mkdtempSync(join(tmpdir(), "repro-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("reproducible builds", () => {
  test("the same sources built in another directory give the same binary", async () => {
    // another checkout: same files, another path (and its own node_modules from the lockfile)
    const tree = join(work, "elsewhere", "checkout");
    for (const f of ["src", "package.json", "bun.lock", "tsconfig.json", "bunfig.toml"])
      cpSync(join(ROOT, f), join(tree, f), { recursive: true });
    const here = join(work, "here", "dstack");
    const there = join(work, "there", "dstack");
    // this checkout's build runs while the other installs its dependencies and then builds
    const elsewhere = async () => {
      const inst = Bun.spawn([process.execPath, "install", "--frozen-lockfile"], { cwd: tree, stdout: "ignore", stderr: "ignore" });
      expect(await inst.exited).toBe(0);
      await compile(tree, hostTarget(), there, gitCommit(ROOT));
    };
    await Promise.all([compile(ROOT, hostTarget(), here, gitCommit(ROOT)), elsewhere()]);
    expect(sha256File(there)).toBe(sha256File(here));
  }, 300_000);

  test("a tarball packed twice, from files with other times and umasks, is the same bytes (gz and xz)", async () => {
    const src = join(work, "src");
    mkdirSync(src);
    writeFileSync(join(src, "dstack"), randomBytes(3_000_000));
    linkSync(join(src, "dstack"), join(src, "dstackup"));
    const epoch = sourceDateEpoch(ROOT);
    const sums = async (tag: string) => {
      const out: string[] = [];
      for (const c of ["gz", "xz"] as const) {
        const f = join(work, `${tag}.tar.${c}`);
        await packTar(src, ["dstack", "dstackup"], f, c, epoch);
        out.push(sha256File(f));
      }
      return out;
    };
    const first = await sums("a");
    utimesSync(join(src, "dstack"), new Date(), new Date(2001, 1, 1));
    chmodSync(join(src, "dstack"), 0o700);
    expect(await sums("b")).toEqual(first);
    // the link is kept as a link: the archive holds the bytes once
    const list = Bun.spawnSync(["tar", "-tvzf", join(work, "a.tar.gz")]).stdout.toString();
    expect(list).toContain("dstackup link to dstack");
    expect(list).toContain("0/0");
  }, 120_000);
});
