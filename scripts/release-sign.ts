#!/usr/bin/env bun
/**
 * bun scripts/release-sign.ts DIR [--trusted-key KEY]
 *
 * Signs DIR/SHA256SUMS with the private key in $DSTACK_RELEASE_SIGNING_KEY (the pipeline's
 * secret; OpenSSH private key text) → DIR/SHA256SUMS.sig, then checks the signature the way
 * install.sh will. Refuses a key whose public half is not the one install.sh pins (or
 * --trusted-key, for a mirror or a test): such a release could never install. The key is
 * written 0600 to a private temp dir for ssh-keygen and removed at once.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { parsePublicKey, RELEASE_KEY, RELEASE_NAMESPACE } from "../src/core/signing-key.ts";
import { signFile, trustedKeyFrom, verifySignature } from "../src/host/signature.ts";

export async function signRelease(dir: string, privateKeyText: string, trusted: string): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), "dstack-sign-"));
  chmodSync(tmp, 0o700);
  try {
    const key = join(tmp, "key");
    writeFileSync(key, privateKeyText.endsWith("\n") ? privateKeyText : `${privateKeyText}\n`, { mode: 0o600 });
    const pub = Bun.spawnSync(["ssh-keygen", "-y", "-f", key], { stdout: "pipe", stderr: "pipe" });
    if (pub.exitCode !== 0) throw new Error(`the signing key is not a usable OpenSSH private key: ${pub.stderr.toString().trim()}`);
    const have = parsePublicKey(pub.stdout.toString(), "the signing key's public half");
    if (have !== trusted)
      throw new Error(`the signing key (${have}) is not the trusted key ${trusted}: install.sh would refuse this release`);
    const sums = join(dir, "SHA256SUMS");
    await signFile(sums, key, RELEASE_NAMESPACE);
    await verifySignature(sums, `${sums}.sig`, {
      trustedKey: trusted,
      namespace: RELEASE_NAMESPACE,
      requireSignature: true,
      warn: () => {},
    });
    console.log(`signed ${sums} → SHA256SUMS.sig (${have})`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({ options: { "trusted-key": { type: "string" } }, allowPositionals: true });
  const secret = process.env.DSTACK_RELEASE_SIGNING_KEY ?? "";
  try {
    if (positionals.length !== 1) throw new Error("usage: release-sign.ts DIR [--trusted-key KEY]");
    if (secret.trim() === "") throw new Error("DSTACK_RELEASE_SIGNING_KEY is empty: set the repository secret (docs/releases.md)");
    const trusted = values["trusted-key"] ? trustedKeyFrom(values["trusted-key"]) : parsePublicKey(RELEASE_KEY, "RELEASE_KEY");
    await signRelease(resolve(positionals[0]!), secret, trusted);
  } catch (e) {
    console.error(`release-sign: ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  }
}
