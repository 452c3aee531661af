/** release-sign.ts signs SHA256SUMS with the pipeline's secret, and only with the key install.sh trusts. */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RELEASE_NAMESPACE } from "../../src/core/signing-key.ts";
import { trustedKeyFrom, verifySignature } from "../../src/host/signature.ts";
import { ROOT, spawnCapture } from "../helpers/run.ts";
import { cleanup, throwawayKey, tmp } from "../install-sh/fixture.ts";

afterAll(cleanup);
const sign = (dir: string, secret: string, extra: string[] = []) =>
  spawnCapture([process.execPath, join(ROOT, "scripts/release-sign.ts"), dir, ...extra], { env: { DSTACK_RELEASE_SIGNING_KEY: secret } });

describe("release-sign", () => {
  test("signs with the secret key when it is the trusted one; the signature verifies as install.sh checks it", async () => {
    const k = throwawayKey("release");
    const dir = tmp("rel-");
    writeFileSync(join(dir, "SHA256SUMS"), `${"a".repeat(64)}  dstack-0.1.0-linux-x64.tar.gz\n`);
    const r = await sign(dir, readFileSync(k.key, "utf8"), ["--trusted-key", k.pub]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const v = await verifySignature(join(dir, "SHA256SUMS"), join(dir, "SHA256SUMS.sig"), {
      trustedKey: trustedKeyFrom(k.pub),
      namespace: RELEASE_NAMESPACE,
      requireSignature: true,
      warn: () => {},
    });
    expect(v).toBe("verified");
    const sig = readFileSync(join(dir, "SHA256SUMS.sig"), "utf8");
    expect(sig).toStartWith("-----BEGIN SSH SIGNATURE-----");
  }, 30_000);

  test("refuses a secret that is not the pinned release key, an empty secret, and a key that is not a key", async () => {
    const dir = tmp("rel-");
    writeFileSync(join(dir, "SHA256SUMS"), "x\n");
    const other = await sign(dir, readFileSync(throwawayKey().key, "utf8"));
    expect(other.code).toBe(1);
    expect(other.stderr).toContain("install.sh would refuse this release");
    expect(existsSync(join(dir, "SHA256SUMS.sig"))).toBe(false);
    const empty = await sign(dir, "");
    expect(empty.stderr).toContain("DSTACK_RELEASE_SIGNING_KEY is empty");
    const junk = await sign(dir, "not a key");
    expect(junk.stderr).toContain("not a usable OpenSSH private key");
  }, 30_000);
});
