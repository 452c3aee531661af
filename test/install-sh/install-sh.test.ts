/**
 * install.sh under dash against a local release server in GitHub's layout, on a stand-in
 * release (fast): fresh install, re-install without download, --from, wget, a foreign
 * dstack, uninstall back to the previous tree. real.test.ts installs the real binary once.
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, spawnCapture } from "../helpers/run.ts";
import { treeListing } from "../helpers/tree.ts";
import { PATHS, pathWithout, servedStandInRelease, standIn, tmp, VERSION } from "./fixture.ts";

const TARBALL = `dstack-${VERSION}-linux-x64.tar.xz`;
const release = servedStandInRelease();
const { srv, sh } = release;

describe("install.sh", () => {
  test("passes shellcheck as POSIX sh and wraps everything in main", async () => {
    const r = await spawnCapture(["shellcheck", "-s", "sh", join(ROOT, "install.sh")]);
    expect(r.stdout + r.stderr).toBe("");
    expect(r.code).toBe(0);
    const text = readFileSync(join(ROOT, "install.sh"), "utf8").trimEnd().split("\n");
    expect(text[text.length - 1]).toBe('main "$@"');
  });

  test("fresh install verifies, installs the binary and links, writes an uninstaller; re-install skips the download", async () => {
    const prefix = tmp("inst-");
    const before = treeListing(prefix);
    srv.requests.length = 0;
    const r = await sh(["--prefix", prefix]);
    expect(r.stderr).toContain("checksum ok");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("dstackup install");
    expect(srv.requests).toEqual(["/latest/download/SHA256SUMS", "/latest/download/SHA256SUMS.sig", `/latest/download/${TARBALL}`]);
    expect(readlinkSync(join(prefix, "bin/dstackup"))).toBe("dstack");
    expect(readlinkSync(join(prefix, "bin/dstack-auth"))).toBe("dstack");
    expect((await spawnCapture([join(prefix, "bin/dstackup"), "--version"])).stdout).toStartWith(`dstackup ${VERSION}`);

    srv.requests.length = 0;
    const again = await sh(["--prefix", prefix, "--version", VERSION]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("already matches the published checksum; skipping the download");
    expect(srv.requests).toEqual([`/download/v${VERSION}/SHA256SUMS`, `/download/v${VERSION}/SHA256SUMS.sig`]);

    const u = await spawnCapture(["dash", join(prefix, "bin/dstack-uninstall.sh")]);
    expect(u.code).toBe(0);
    expect(treeListing(prefix)).toEqual(before);
  }, 30_000);

  test("uninstall keeps an (empty) bin dir that existed before the install", async () => {
    const prefix = tmp("inst-");
    mkdirSync(join(prefix, "bin"));
    const before = treeListing(prefix);
    const r = await sh(["--from", join(release.standIn(), TARBALL), "--prefix", prefix]);
    expect(r.code).toBe(0);
    // a re-install (download skipped) rewrites the uninstaller; it must still know the dir was not ours
    expect((await sh(["--prefix", prefix, "--version", VERSION])).code).toBe(0);
    const u = await spawnCapture(["dash", join(prefix, "bin/dstack-uninstall.sh")]);
    expect(u.code).toBe(0);
    expect(u.stdout).toContain("removed");
    expect(treeListing(prefix)).toEqual(before);
  }, 30_000);

  test("downloads with wget when curl is absent", async () => {
    const prefix = tmp("inst-");
    srv.requests.length = 0;
    const r = await sh(["--prefix", prefix], { PATH: pathWithout(["curl"]) });
    expect(r.stderr).toContain("checksum ok");
    expect(r.code).toBe(0);
    expect(srv.requests).toEqual(["/latest/download/SHA256SUMS", "/latest/download/SHA256SUMS.sig", `/latest/download/${TARBALL}`]);
  }, 30_000);

  test("--from installs a local tarball with no network", async () => {
    const prefix = tmp("inst-");
    srv.requests.length = 0;
    const r = await sh(["--from", join(release.standIn(), TARBALL), "--prefix", prefix], { DSTACK_RELEASE_URL: "http://127.0.0.1:9" });
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 }); // shows stderr when it fails
    expect(srv.requests).toEqual([]);
    expect(readFileSync(join(prefix, "bin/dstack"), "utf8")).toBe(standIn("linux-x64"));
    const gz = await sh(["--from", join(release.standIn(), `dstack-${VERSION}-linux-x64.tar.gz`), "--prefix", tmp("inst-")]);
    expect(gz.code).toBe(0);
  }, 30_000);

  test("refuses to overwrite a foreign dstack in <prefix>/bin unless --force", async () => {
    const prefix = tmp("inst-");
    mkdirSync(join(prefix, "bin"));
    writeFileSync(join(prefix, "bin/dstack"), "#!/bin/sh\necho 'dstack 0.19.2'\n", { mode: 0o755 });
    const before = treeListing(prefix);
    // not on PATH: it would still be overwritten, so it is refused
    const r = await sh(["--prefix", prefix]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${prefix}/bin/dstack is a different program named dstack`);
    expect(r.stderr).toContain("--force");
    expect(treeListing(prefix)).toEqual(before);
    const f = await sh(["--prefix", prefix, "--force"]);
    expect(f.code).toBe(0);
    expect(f.stderr).toContain("although it is not ours (--force)");
    expect(readFileSync(join(prefix, "bin/dstack"), "utf8")).toBe(standIn("linux-x64"));
  }, 30_000);

  test("a foreign dstack elsewhere on PATH is left alone; the warning says which one runs", async () => {
    const fake = tmp("foreign-");
    mkdirSync(join(fake, "bin"));
    writeFileSync(join(fake, "bin/dstack"), "#!/bin/sh\necho 'dstack 0.19.2'\n", { mode: 0o755 });
    const first = tmp("inst-");
    const r = await sh(["--prefix", first], { PATH: `${join(fake, "bin")}:${PATHS}` });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`${join(fake, "bin/dstack")} is a different program named dstack and comes first on PATH`);
    expect(r.stderr).toContain(`Run ours as ${first}/bin/dstack`);
    const second = tmp("inst-");
    // written with a trailing slash on PATH, it is still recognised as the install dir
    const r2 = await sh(["--prefix", second], { PATH: `${join(second, "bin")}/:${join(fake, "bin")}:${PATHS}` });
    expect(r2.code).toBe(0);
    expect(r2.stderr).toContain(`ours in ${second}/bin comes first on PATH`);
    expect(readFileSync(join(fake, "bin/dstack"), "utf8")).toContain("0.19.2"); // untouched
  }, 30_000);

  test("bad flags are errors", async () => {
    const r = await sh(["--nope"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("unknown option: --nope");
    expect((await sh(["--prefix", "relative"])).stderr).toContain("absolute path");
    const env = await sh(["--prefix", tmp("inst-")], { DSTACK_REQUIRE_SIGNATURE: "yes" });
    expect(env.stderr).toContain("DSTACK_REQUIRE_SIGNATURE must be 0 or 1");
  });
});
