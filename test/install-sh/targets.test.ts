/** install.sh picks the asset for `uname -sm`, xz where it can unpack it, and the client alone on macOS. */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { treeListing } from "../helpers/tree.ts";
import { fakeUname, pathWithout, servedStandInRelease, standIn, tmp, VERSION } from "./fixture.ts";

const release = servedStandInRelease();
const { srv } = release;
const sh = (args: string[], path: string) => release.sh(args, { PATH: path });

describe("install.sh target", () => {
  test("linux arm64 gets the linux-arm64 tarball, xz when xz is there", async () => {
    const prefix = tmp("inst-");
    srv.requests.length = 0;
    const r = await sh(["--prefix", prefix], pathWithout([], { uname: fakeUname("Linux", "aarch64") }));
    expect(r.code).toBe(0);
    expect(srv.requests.at(-1)).toBe(`/latest/download/dstack-${VERSION}-linux-arm64.tar.xz`);
    expect(readFileSync(join(prefix, "bin/dstack"), "utf8")).toBe(standIn("linux-arm64"));
    expect(existsSync(join(prefix, "bin/dstackup"))).toBe(true);
  }, 30_000);

  test("a Linux host without xz gets the .tar.gz (for a pinned version too)", async () => {
    const path = pathWithout(["xz", "unxz", "xzcat"]);
    for (const v of [[], ["--version", VERSION]]) {
      srv.requests.length = 0;
      const r = await sh(["--prefix", tmp("inst-"), ...v], path);
      expect(r.code).toBe(0);
      expect(srv.requests.at(-1)).toEndWith(`/dstack-${VERSION}-linux-x64.tar.gz`);
    }
  }, 30_000);

  test("macOS (arm64 and x64) gets the client alone: no host-tool links, an uninstaller for it", async () => {
    for (const [m, target] of [
      ["arm64", "darwin-arm64"],
      ["x86_64", "darwin-x64"],
    ] as const) {
      const prefix = tmp("inst-");
      const before = treeListing(prefix);
      srv.requests.length = 0;
      const r = await sh(["--prefix", prefix], pathWithout([], { uname: fakeUname("Darwin", m) }));
      expect(r.code).toBe(0);
      expect(srv.requests.at(-1)).toBe(`/latest/download/dstack-${VERSION}-${target}.tar.xz`);
      expect(readFileSync(join(prefix, "bin/dstack"), "utf8")).toBe(standIn(target));
      expect(existsSync(join(prefix, "bin/dstackup"))).toBe(false);
      expect(r.stdout).toContain("--host ssh://");
      const u = Bun.spawnSync(["dash", join(prefix, "bin/dstack-uninstall.sh")]);
      expect(u.exitCode).toBe(0);
      expect(treeListing(prefix)).toEqual(before);
    }
  }, 30_000);

  test("another OS or architecture is refused, naming what there is", async () => {
    const win = await sh(["--prefix", tmp("inst-")], pathWithout([], { uname: fakeUname("FreeBSD", "amd64") }));
    expect(win.code).toBe(1);
    expect(win.stderr).toContain("no dstack build for FreeBSD");
    const riscv = await sh(["--prefix", tmp("inst-")], pathWithout([], { uname: fakeUname("Linux", "riscv64") }));
    expect(riscv.code).toBe(1);
    expect(riscv.stderr).toContain("unsupported architecture riscv64");
  }, 30_000);
});
