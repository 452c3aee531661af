/**
 * The trust chain: install.sh believes a checksum only after SHA256SUMS' signature verifies
 * against the trusted key; a missing or bad signature is refused with nothing installed.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RELEASE_KEY } from "../../src/core/signing-key.ts";
import { treeListing } from "../helpers/tree.ts";
import {
  copyRelease,
  pathWithout,
  runInstall,
  servedStandInRelease,
  sha256,
  standIn,
  standInRelease,
  throwawayKey,
  tmp,
  VERSION,
} from "./fixture.ts";

const release = servedStandInRelease("release");
const { srv, sh } = release;
const TARBALL = `dstack-${VERSION}-linux-x64.tar.xz`;

describe("install.sh signature check", () => {
  test("the key pinned in install.sh is the release key the binary pins", () => {
    const text = readFileSync(join(import.meta.dir, "../../install.sh"), "utf8");
    const pinned = /^release_key\(\) \{\n {2}echo '([^']+)'\n\}$/m.exec(text)?.[1];
    expect(pinned).toBe(RELEASE_KEY);
  }, 30_000);

  test("a good signature installs; the signature is fetched and checked before the tarball", async () => {
    release.serve(release.standIn());
    const prefix = tmp("inst-");
    srv.requests.length = 0;
    const r = await sh(["--prefix", prefix]);
    expect(r.stderr).toContain("signature ok: SHA256SUMS is signed by the key given by --trusted-key");
    expect(r.code).toBe(0);
    expect(srv.requests).toEqual(["/latest/download/SHA256SUMS", "/latest/download/SHA256SUMS.sig", `/latest/download/${TARBALL}`]);
    expect(readFileSync(join(prefix, "bin/dstack"), "utf8")).toBe(standIn("linux-x64"));
    // the key may be given as its text as well as a file
    const again = await sh(["--prefix", tmp("inst-"), "--trusted-key", release.signer().text.trim()]);
    expect(again.code).toBe(0);
  }, 30_000);

  test("tarball and SHA256SUMS both replaced (checksums matching, signature not) is refused, nothing installed", async () => {
    const evil = copyRelease(release.standIn());
    const body = `#!/bin/sh\necho "dstack ${VERSION} (evil)"\n`;
    writeFileSync(join(evil, "evil-bin"), body);
    Bun.spawnSync(["tar", "-C", evil, "-cJf", join(evil, TARBALL), "--transform=s/evil-bin/dstack/", "evil-bin"]);
    const sums = readFileSync(join(evil, "SHA256SUMS"), "utf8")
      .split("\n")
      .map((l) =>
        l.endsWith(`  ${TARBALL}`)
          ? `${sha256(readFileSync(join(evil, TARBALL)))}  ${TARBALL}`
          : l.endsWith(`-linux-x64/dstack`)
            ? `${sha256(body)}  dstack-${VERSION}-linux-x64/dstack`
            : l,
      )
      .join("\n");
    writeFileSync(join(evil, "SHA256SUMS"), sums);
    release.serve(evil);
    const prefix = tmp("inst-");
    srv.requests.length = 0;
    const r = await sh(["--prefix", prefix]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("bad signature on SHA256SUMS");
    expect(r.stderr).toContain("nothing was installed");
    expect(treeListing(prefix)).toEqual(["D  700"]);
    expect(srv.requests).not.toContain(`/latest/download/${TARBALL}`); // refused before the download
  }, 30_000);

  test("a release signed by another key is refused; by default the pinned release key is the one trusted", async () => {
    const other = throwawayKey("attacker");
    release.serve(await standInRelease(other.key));
    const r = await sh(["--prefix", tmp("inst-")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("not signed by the key given by --trusted-key");
    release.serve(release.standIn()); // signed by the test key, not the release key
    const pinned = await runInstall(["--prefix", tmp("inst-")], { DSTACK_RELEASE_URL: srv.url, DSTACK_TRUSTED_KEY: "" });
    expect(pinned.code).toBe(1);
    expect(pinned.stderr).toContain("it was not signed by the dstack release key");
  }, 30_000);

  test("a missing signature is refused, with or without --require-signature", async () => {
    const unsigned = await standInRelease();
    release.serve(unsigned);
    for (const extra of [[], ["--require-signature"]]) {
      const prefix = tmp("inst-");
      const r = await sh(["--prefix", prefix, ...extra]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("SHA256SUMS has no signature");
      expect(treeListing(prefix)).toEqual(["D  700"]);
    }
  }, 30_000);

  test("a host without ssh-keygen warns and installs on the checksums; --require-signature refuses there", async () => {
    const unsignedRelease = await standInRelease(); // even unsigned: the signature cannot be checked at all
    release.serve(unsignedRelease);
    const path = pathWithout(["ssh-keygen"]);
    const r = await sh(["--prefix", tmp("inst-")], { PATH: path });
    expect(r.stderr).toContain("cannot check the signature of SHA256SUMS");
    expect(r.stderr).toContain("pass --require-signature to refuse");
    expect(r.code).toBe(0);
    const prefix = tmp("inst-");
    const strict = await sh(["--prefix", prefix, "--require-signature"], { PATH: path });
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain("--require-signature is set");
    expect(treeListing(prefix)).toEqual(["D  700"]);
    const env = await sh(["--prefix", tmp("inst-")], { PATH: path, DSTACK_REQUIRE_SIGNATURE: "1" });
    expect(env.code).toBe(1);
    // checksums are still checked there: a tampered tarball is refused
    const tampered = copyRelease(unsignedRelease);
    const b = readFileSync(join(tampered, TARBALL));
    b[b.length - 40] = (b[b.length - 40] ?? 0) ^ 0xff;
    writeFileSync(join(tampered, TARBALL), b);
    release.serve(tampered);
    const t = await sh(["--prefix", tmp("inst-")], { PATH: path });
    expect(t.code).toBe(1);
    expect(t.stderr).toContain("checksum mismatch");
  }, 30_000);

  test("a signed release whose tarball was altered is refused by its checksum", async () => {
    const tampered = copyRelease(release.standIn());
    const b = readFileSync(join(tampered, TARBALL));
    b[b.length - 40] = (b[b.length - 40] ?? 0) ^ 0xff;
    writeFileSync(join(tampered, TARBALL), b);
    release.serve(tampered);
    const prefix = tmp("inst-");
    const r = await sh(["--prefix", prefix]);
    expect(r.stderr).toContain("signature ok");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("checksum mismatch");
    expect(treeListing(prefix)).toEqual(["D  700"]);
  }, 30_000);

  test("--from checks SHA256SUMS and its signature beside the tarball", async () => {
    const dir = copyRelease(release.standIn());
    const r = await sh(["--from", join(dir, TARBALL), "--prefix", tmp("inst-")], { DSTACK_RELEASE_URL: "http://127.0.0.1:9" });
    expect(r.stderr).toContain("signature ok");
    expect(r.code).toBe(0);
    Bun.spawnSync(["rm", join(dir, "SHA256SUMS.sig")]);
    const nosig = await sh(["--from", join(dir, TARBALL), "--prefix", tmp("inst-")]);
    expect(nosig.code).toBe(1);
    expect(nosig.stderr).toContain("SHA256SUMS has no signature");
    Bun.spawnSync(["rm", join(dir, "SHA256SUMS")]);
    const bare = await sh(["--from", join(dir, TARBALL), "--prefix", tmp("inst-")]);
    expect(bare.code).toBe(0);
    expect(bare.stderr).toContain("installing without a checksum or signature check");
    const strict = await sh(["--from", join(dir, TARBALL), "--prefix", tmp("inst-"), "--require-signature"]);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain("--require-signature is set");
  }, 30_000);

  test("a --trusted-key that is not a key is an error", async () => {
    const f = join(tmp("k-"), "nope.pub");
    writeFileSync(f, "hello world\n");
    const r = await sh(["--prefix", tmp("inst-"), "--trusted-key", f]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("not an SSH public key");
    expect((await sh(["--trusted-key", "/nonexistent.pub"])).stderr).toContain("no such file");
  });
});
