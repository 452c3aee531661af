import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RELEASE_NAMESPACE } from "../../../src/core/signing-key.ts";
import { createSimulatedImage } from "../../../src/host/images/images.ts";
import { type BundleTrust, verifyAndExtractBundle } from "../../../src/host/install/bundle.ts";
import { signFile, trustedKeyFrom } from "../../../src/host/signature.ts";
import { runCli } from "../../helpers/cli.ts";
import { runBin } from "../../helpers/run.ts";
import { simInstallFlags } from "../../helpers/sim-install.ts";
import { pathWithout, throwawayKey } from "../../install-sh/fixture.ts";

// the bundle maker's key, made for this run
const maker = throwawayKey("maker");
const trust: BundleTrust = { trustedKey: trustedKeyFrom(maker.pub), requireSignature: false, warn: () => {} };
const sign = ["--sign-key", maker.key];
const verify = (file: string, t: BundleTrust = trust) => verifyAndExtractBundle(file, mkdtempSync(join(tmpdir(), "bx-")), t);

function inputs() {
  const dir = mkdtempSync(join(tmpdir(), "bundle-in-"));
  writeFileSync(join(dir, "dstack-vmm"), "#!/bin/sh\necho vmm\n", { mode: 0o755 });
  writeFileSync(join(dir, "supervisor"), "#!/bin/sh\necho sup\n", { mode: 0o755 });
  mkdirSync(join(dir, "kp"));
  writeFileSync(join(dir, "kp", "docker-compose.yaml"), "services: {}\n");
  const img = createSimulatedImage(join(dir, "images"), "dstack-0.5.5", "0.5.5");
  return { dir, img };
}

describe("offline bundle", () => {
  test("create (compiled binary) → verify → extract round trip", async () => {
    const { dir, img } = inputs();
    const out = join(dir, "out", "host.tar.gz");
    const r = await runCli("dstackup", [
      "bundle",
      "create",
      "-o",
      out,
      ...sign,
      "--vmm-bin",
      join(dir, "dstack-vmm"),
      "--supervisor-bin",
      join(dir, "supervisor"),
      "--image",
      img.dir,
      "--key-provider-src",
      join(dir, "kp"),
      "--json",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(readFileSync(`${out}.sha256`, "utf8")).toBe(`${info.sha256}  host.tar.gz\n`);
    expect(readFileSync(`${out}.sha256.sig`, "utf8")).toStartWith("-----BEGIN SSH SIGNATURE-----");
    expect(info.signature).toBe(`${out}.sha256.sig`);
    const c = await verify(out);
    expect(readFileSync(c.vmmBin!, "utf8")).toContain("echo vmm");
    expect(readFileSync(c.supervisorBin!, "utf8")).toContain("echo sup");
    expect(c.imageName).toBe("dstack-0.5.5");
    expect(readFileSync(join(c.imageDir!, "dstack-0.5.5", "digest.txt"), "utf8").trim()).toBe(img.digest!);
    expect(readFileSync(join(c.keyProviderSrc!, "docker-compose.yaml"), "utf8")).toBe("services: {}\n");
  });

  test("a tampered bundle is refused", async () => {
    const { dir, img } = inputs();
    const out = join(dir, "b.tar.gz");
    expect((await runCli("dstackup", ["bundle", "create", "-o", out, ...sign, "--image", img.dir])).code).toBe(0);
    const bytes = readFileSync(out);
    bytes[bytes.length - 30] = (bytes[bytes.length - 30] ?? 0) ^ 0xff;
    writeFileSync(out, bytes);
    await expect(verify(out)).rejects.toThrow(/bundle checksum mismatch/);
  });

  test("a file altered inside the archive (outer checksum absent) is refused by SHA256SUMS", async () => {
    const { dir, img } = inputs();
    const out = join(dir, "c.tar.gz");
    expect(
      (await runCli("dstackup", ["bundle", "create", "-o", out, ...sign, "--image", img.dir, "--vmm-bin", join(dir, "dstack-vmm")])).code,
    ).toBe(0);
    const x = mkdtempSync(join(tmpdir(), "bx-"));
    Bun.spawnSync(["tar", "-xzf", out, "-C", x]);
    writeFileSync(join(x, "bin", "dstack-vmm"), "#!/bin/sh\necho evil\n");
    const evil = join(dir, "evil.tar.gz");
    Bun.spawnSync(["tar", "-czf", evil, "-C", x, "."]);
    // no outer checksum (and so no signature) is only let through where no signature can be checked
    const noKeygen = { DSTACK_TOOL_PATH: pathWithout(["ssh-keygen"]) };
    await expect(verify(evil)).rejects.toThrow(/has no evil.tar.gz.sha256 \(nor its signature\)/);
    await expect(withEnv(noKeygen, () => verify(evil))).rejects.toThrow(/bin\/dstack-vmm does not match its checksum/);
  });

  test("a consistent but rewritten manifest pointing outside its fixed places is refused", async () => {
    const { dir, img } = inputs();
    const out = join(dir, "d.tar.gz");
    expect(
      (await runCli("dstackup", ["bundle", "create", "-o", out, ...sign, "--image", img.dir, "--vmm-bin", join(dir, "dstack-vmm")])).code,
    ).toBe(0);
    const x = mkdtempSync(join(tmpdir(), "bx-"));
    Bun.spawnSync(["tar", "-xzf", out, "-C", x]);
    const rewrite = (patch: Record<string, string>) => {
      const m = { ...JSON.parse(readFileSync(join(x, "bundle.json"), "utf8")), ...patch };
      writeFileSync(join(x, "bundle.json"), JSON.stringify(m));
      // recompute SHA256SUMS so only the manifest check can catch it
      const files = Bun.spawnSync(["find", ".", "-type", "f", "!", "-name", "SHA256SUMS"], { cwd: x })
        .stdout.toString()
        .trim()
        .split("\n")
        .map((f) => f.slice(2))
        .sort();
      const sums = `${files.map((f) => `${new Bun.CryptoHasher("sha256").update(readFileSync(join(x, f))).digest("hex")}  ${f}`).join("\n")}\n`;
      writeFileSync(join(x, "SHA256SUMS"), sums);
      const evil = join(dir, `evil-${Object.keys(patch)[0]}.tar.gz`);
      Bun.spawnSync(["tar", "-czf", evil, "-C", x, "."]);
      return resign(evil);
    };
    await expect(verify(await rewrite({ vmm_bin: "../../usr/bin/evil" }))).rejects.toThrow(/vmm_bin must be "bin\/dstack-vmm"/);
    await expect(verify(await rewrite({ vmm_bin: "bin/dstack-vmm", image: ".." }))).rejects.toThrow(
      /is not an image directory inside the bundle/,
    );
    // the untouched bundle still verifies
    const ok = await verify(out);
    expect(ok.imageName).toBe("dstack-0.5.5");
  });

  test("an empty bundle is a usage error", async () => {
    const unsigned = await runCli("dstackup", ["bundle", "create", "-o", join(tmpdir(), "x.tar.gz"), "--vmm-bin", "/bin/true"]);
    expect(unsigned.code).toBe(2);
    expect(unsigned.stderr).toContain("pass --sign-key KEY");
    const r = await runCli("dstackup", ["bundle", "create", "-o", join(tmpdir(), "x.tar.gz"), ...sign]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("pass at least one of");
  });
});

describe("dstackup install --bundle", () => {
  test("installs the bundle's image (and key-provider source) into the layout, after preflight, with no network", async () => {
    const { dir } = inputs();
    const img = createSimulatedImage(join(dir, "imgs"), "dstack-0.5.9", "0.5.9");
    const out = join(dir, "b.tar.gz");
    const bins = ["--vmm-bin", join(dir, "dstack-vmm"), "--supervisor-bin", join(dir, "supervisor")];
    expect(
      (
        await runCli("dstackup", [
          "bundle",
          "create",
          "-o",
          out,
          ...sign,
          ...bins,
          "--image",
          img.dir,
          "--key-provider-src",
          join(dir, "kp"),
        ])
      ).code,
    ).toBe(0);
    const prefix = mkdtempSync(join(tmpdir(), "bundle-install-"));
    // --runtime none: no app runs here, no engine probe
    const flags = [...simInstallFlags(prefix, { kms: false }), "--bundle", out, "--trusted-key", maker.pub];
    try {
      // signed by the maker's key, not the release key: refused unless that key is named
      const untrusted = await runBin("dstackup", ["install", ...flags.slice(0, -2)]);
      expect(untrusted.code).toBe(4);
      expect(untrusted.stderr).toContain("bad signature, not made by the trusted key");
      expect(readdirSync(prefix)).toEqual([]);
      const r = await runBin("dstackup", ["install", ...flags]);
      expect(r.stderr).toContain("from the bundle");
      expect(r.code).toBe(0);
      const st = JSON.parse(readFileSync(join(prefix, "var/lib/dstack/dstackup-state.json"), "utf8"));
      expect(st.image).toBe("dstack-0.5.9");
      expect(st.image_pin).toBe(img.digest);
      expect(readFileSync(join(prefix, "var/lib/dstack/images/dstack-0.5.9/digest.txt"), "utf8").trim()).toBe(img.digest!);
      expect(readFileSync(join(prefix, "share/dstack/local-key-provider/build/docker-compose.yaml"), "utf8")).toBe("services: {}\n");
      // the bundled dstack-vmm and supervisor land in the layout's libexec, executable
      for (const [name, text] of [
        ["dstack-vmm", "echo vmm"],
        ["supervisor", "echo sup"],
      ] as const) {
        const p = join(prefix, "libexec/dstack", name);
        expect(readFileSync(p, "utf8")).toContain(text);
        expect(statSync(p).mode & 0o111).not.toBe(0);
      }
      // the same bundle again: nothing is recopied (an image in use is not replaced), nothing changes
      const imgIno = statSync(join(prefix, "var/lib/dstack/images/dstack-0.5.9/digest.txt")).ino;
      const again = await runBin("dstackup", ["install", ...flags]);
      expect(again.code).toBe(0);
      expect(again.stderr).not.toContain("from the bundle");
      expect(again.stderr).toContain("no change");
      expect(statSync(join(prefix, "var/lib/dstack/images/dstack-0.5.9/digest.txt")).ino).toBe(imgIno);
      // a tampered bundle is refused before anything is written
      const fresh = mkdtempSync(join(tmpdir(), "bundle-install-"));
      const bytes = readFileSync(out);
      bytes[bytes.length - 30] = (bytes[bytes.length - 30] ?? 0) ^ 0xff;
      writeFileSync(out, bytes);
      const bad = await runBin("dstackup", ["install", ...flags.map((f) => (f === prefix ? fresh : f))]);
      expect(bad.code).toBe(4);
      expect(bad.stderr).toContain("bundle checksum mismatch");
      expect(readdirSync(fresh)).toEqual([]);
    } finally {
      await runBin("dstackup", ["destroy", "--purge", "-y", "-q", "--prefix", prefix]);
    }
  }, 60_000);
});

/** Re-sign a rewritten bundle with the maker's key, so only the checks inside it can catch it. */
async function resign(file: string): Promise<string> {
  const sum = new Bun.CryptoHasher("sha256").update(readFileSync(file)).digest("hex");
  writeFileSync(`${file}.sha256`, `${sum}  ${file.split("/").pop()}\n`);
  await signFile(`${file}.sha256`, maker.key, "dstack-bundle");
  return file;
}

async function withEnv<T>(env: Record<string, string>, f: () => Promise<T>): Promise<T> {
  const old = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await f();
  } finally {
    for (const [k, v] of Object.entries(old)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe("bundle signatures", () => {
  test("a bundle whose files were swapped (checksum recomputed, signature not) is refused", async () => {
    const { dir, img } = inputs();
    const out = join(dir, "s.tar.gz");
    expect((await runCli("dstackup", ["bundle", "create", "-o", out, ...sign, "--image", img.dir])).code).toBe(0);
    const x = mkdtempSync(join(tmpdir(), "bx-"));
    Bun.spawnSync(["tar", "-xzf", out, "-C", x]);
    writeFileSync(join(x, "bundle.json"), readFileSync(join(x, "bundle.json"), "utf8").replace("dstack-bundle/1", "dstack-bundle/1 "));
    Bun.spawnSync(["tar", "-czf", out, "-C", x, "."]);
    const sum = new Bun.CryptoHasher("sha256").update(readFileSync(out)).digest("hex");
    writeFileSync(`${out}.sha256`, `${sum}  s.tar.gz\n`);
    await expect(verify(out)).rejects.toThrow(/s.tar.gz.sha256: bad signature, not made by the trusted key/);
  });

  test("a missing signature, another signer, or a release signature in its place are refused", async () => {
    const { dir, img } = inputs();
    const out = join(dir, "m.tar.gz");
    expect((await runCli("dstackup", ["bundle", "create", "-o", out, ...sign, "--image", img.dir])).code).toBe(0);
    const other = throwawayKey("other");
    await expect(verify(out, { ...trust, trustedKey: trustedKeyFrom(other.pub) })).rejects.toThrow(/bad signature/);
    // the same key signing in the release namespace does not make a bundle signature
    await signFile(`${out}.sha256`, maker.key, RELEASE_NAMESPACE);
    await expect(verify(out)).rejects.toThrow(/bad signature/);
    rmSync(`${out}.sha256.sig`);
    await expect(verify(out)).rejects.toThrow(/m.tar.gz.sha256 has no signature/);
  });

  test("a host without ssh-keygen warns and goes on checksums; --require-signature refuses there", async () => {
    const { dir, img } = inputs();
    const out = join(dir, "n.tar.gz");
    expect((await runCli("dstackup", ["bundle", "create", "-o", out, ...sign, "--image", img.dir])).code).toBe(0);
    const warnings: string[] = [];
    const env = { DSTACK_TOOL_PATH: pathWithout(["ssh-keygen"]) };
    const c = await withEnv(env, () => verify(out, { ...trust, warn: (m) => warnings.push(m) }));
    expect(c.imageName).toBe("dstack-0.5.5");
    expect(warnings.join("\n")).toContain("there is no ssh-keygen on this host");
    await expect(withEnv(env, () => verify(out, { ...trust, requireSignature: true }))).rejects.toThrow(/a signature is required/);
  });
});
