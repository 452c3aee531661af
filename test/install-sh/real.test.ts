/** install.sh installs the real binary (dist/, as `bun run build` packs it) from a signed release. */
import { afterAll, expect, test } from "bun:test";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { RELEASE_NAMESPACE } from "../../src/core/signing-key.ts";
import { signFile } from "../../src/host/signature.ts";
import { DIST, spawnCapture } from "../helpers/run.ts";
import { cleanup, releaseServer, runInstall, throwawayKey, tmp } from "./fixture.ts";

const TARBALL = `dstack-${pkg.version}-linux-${process.arch === "arm64" ? "arm64" : "x64"}.tar.gz`;
let rel = "";
const srv = releaseServer(() => rel);
afterAll(() => {
  srv.stop();
  cleanup();
});

test("the real release tarball installs and every name answers", async () => {
  const key = throwawayKey();
  rel = tmp("real-");
  for (const f of [TARBALL, "SHA256SUMS"]) copyFileSync(join(DIST, f), join(rel, f));
  await signFile(join(rel, "SHA256SUMS"), key.key, RELEASE_NAMESPACE);
  const prefix = tmp("inst-");
  const r = await runInstall(["--prefix", prefix], { DSTACK_RELEASE_URL: srv.url, DSTACK_TRUSTED_KEY: key.pub });
  expect(r.stderr).toContain("signature ok");
  expect(r.code).toBe(0);
  for (const name of ["dstack", "dstackup", "dstack-auth"]) {
    const v = await spawnCapture([join(prefix, "bin", name), "--version"]);
    expect(v.stdout).toStartWith(`${name} ${pkg.version} (`);
  }
}, 60_000);
