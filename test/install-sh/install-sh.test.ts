/**
 * install.sh under dash against a local HTTP server serving the real dist/
 * artefacts: fresh install, re-install without download, tampered tarball,
 * --from, a foreign dstack on PATH, uninstall back to the previous tree.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { DIST, ROOT, spawnCapture } from "../helpers/run.ts";
import { treeListing } from "../helpers/tree.ts";

const TARBALL = `dstack-${pkg.version}-linux-x64.tar.gz`;
const requests: string[] = [];
let tamper = false;
let server: ReturnType<typeof Bun.serve>;
let base = "";

beforeAll(() => {
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const path = new URL(req.url).pathname;
      requests.push(path);
      // GitHub's shapes: /latest/download/ASSET and /download/vVERSION/ASSET
      const m = /^\/(?:latest\/download|download\/v([\w.-]+))\/([^/]+)$/.exec(path);
      if (!m) return new Response("not found", { status: 404 });
      const [, ver, file] = m;
      if (ver !== undefined && ver !== pkg.version) return new Response("not found", { status: 404 });
      if (file === "SHA256SUMS" || file === TARBALL) {
        const body = new Uint8Array(await Bun.file(join(DIST, file!)).arrayBuffer());
        if (tamper && file === TARBALL) body[body.length - 100] = (body[body.length - 100] ?? 0) ^ 0xff;
        return new Response(body);
      }
      return new Response("not found", { status: 404 });
    },
  });
  base = `http://127.0.0.1:${server.port}`;
});
const made: string[] = [];
/** A temp dir removed after the suite (each install holds a ~115 MB binary). */
function tmp(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}
afterAll(() => {
  server.stop(true);
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

const PATHS = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
function sh(args: string[], env: Record<string, string> = {}) {
  return spawnCapture(["dash", join(ROOT, "install.sh"), ...args], { env: { PATH: PATHS, DSTACK_RELEASE_URL: base, ...env } });
}

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
    requests.length = 0;
    const r = await sh(["--prefix", prefix]);
    expect(r.stderr).toContain("checksum ok");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`dstackup install`);
    expect(requests).toEqual(["/latest/download/SHA256SUMS", `/latest/download/${TARBALL}`]);
    const v = await spawnCapture([join(prefix, "bin/dstackup"), "--version"]);
    expect(v.stdout).toStartWith(`dstackup ${pkg.version}`);
    expect((await spawnCapture([join(prefix, "bin/dstack-auth"), "--version"])).stdout).toStartWith("dstack-auth ");

    requests.length = 0;
    const again = await sh(["--prefix", prefix, "--version", pkg.version]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("already matches the published checksum; skipping the download");
    expect(requests).toEqual([`/download/v${pkg.version}/SHA256SUMS`]);

    const u = await spawnCapture(["dash", join(prefix, "bin/dstack-uninstall.sh")]);
    expect(u.code).toBe(0);
    expect(treeListing(prefix)).toEqual(before);
  }, 60_000);

  test("uninstall keeps an (empty) bin dir that existed before the install", async () => {
    const prefix = tmp("inst-");
    mkdirSync(join(prefix, "bin"));
    const before = treeListing(prefix);
    const r = await sh(["--from", join(DIST, TARBALL), "--prefix", prefix]);
    expect(r.code).toBe(0);
    // a re-install (download skipped) rewrites the uninstaller; it must still know the dir was not ours
    expect((await sh(["--prefix", prefix, "--version", pkg.version])).code).toBe(0);
    const u = await spawnCapture(["dash", join(prefix, "bin/dstack-uninstall.sh")]);
    expect(u.code).toBe(0);
    expect(u.stdout).toContain("removed");
    expect(treeListing(prefix)).toEqual(before);
  }, 60_000);

  test("downloads with wget when curl is absent", async () => {
    // a PATH holding every /usr/bin tool except curl
    const shim = tmp("nocurl-");
    for (const e of readdirSync("/usr/bin")) if (e !== "curl") symlinkSync(join("/usr/bin", e), join(shim, e));
    const prefix = tmp("inst-");
    requests.length = 0;
    const r = await sh(["--prefix", prefix], { PATH: shim });
    expect(r.stderr).toContain("checksum ok");
    expect(r.code).toBe(0);
    expect(requests).toEqual(["/latest/download/SHA256SUMS", `/latest/download/${TARBALL}`]);
    expect((await spawnCapture([join(prefix, "bin/dstack"), "--version"])).code).toBe(0);
  }, 60_000);

  test("a tampered tarball is refused and nothing is installed", async () => {
    const prefix = tmp("inst-");
    tamper = true;
    try {
      const r = await sh(["--prefix", prefix]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("checksum mismatch");
      expect(treeListing(prefix)).toEqual(["D  700"]);
    } finally {
      tamper = false;
    }
  }, 60_000);

  test("--from installs a local tarball with no network; checks SHA256SUMS beside it", async () => {
    const prefix = tmp("inst-");
    const dir = tmp("airgap-");
    copyFileSync(join(DIST, TARBALL), join(dir, TARBALL));
    copyFileSync(join(DIST, "SHA256SUMS"), join(dir, "SHA256SUMS"));
    requests.length = 0;
    const r = await sh(["--from", join(dir, TARBALL), "--prefix", prefix], { DSTACK_RELEASE_URL: "http://127.0.0.1:9" });
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 }); // shows stderr when it fails
    expect(requests).toEqual([]);
    expect((await spawnCapture([join(prefix, "bin/dstack"), "--version"])).code).toBe(0);
    // a wrong checksum beside it refuses
    writeFileSync(join(dir, "SHA256SUMS"), readFileSync(join(dir, "SHA256SUMS"), "utf8").replace(/^[0-9a-f]{8}/, "00000000"));
    const bad = await sh(["--from", join(dir, TARBALL), "--prefix", tmp("inst-")]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("checksum mismatch");
  }, 60_000);

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
    expect((await spawnCapture([join(prefix, "bin/dstack"), "--version"])).stdout).toStartWith("dstack ");
  }, 60_000);

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
  }, 60_000);

  test("bad flags are errors", async () => {
    const r = await sh(["--nope"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("unknown option: --nope");
    expect((await sh(["--prefix", "relative"])).stderr).toContain("absolute path");
  });
});
