import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSimulatedImage } from "../../../src/host/images/images.ts";
import { verifyAndExtractBundle } from "../../../src/host/install/bundle.ts";
import { runCli } from "../../helpers/cli.ts";
import { runBin } from "../../helpers/run.ts";

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
    const c = await verifyAndExtractBundle(out, mkdtempSync(join(tmpdir(), "bundle-x-")));
    expect(readFileSync(c.vmmBin!, "utf8")).toContain("echo vmm");
    expect(readFileSync(c.supervisorBin!, "utf8")).toContain("echo sup");
    expect(c.imageName).toBe("dstack-0.5.5");
    expect(readFileSync(join(c.imageDir!, "dstack-0.5.5", "digest.txt"), "utf8").trim()).toBe(img.digest!);
    expect(readFileSync(join(c.keyProviderSrc!, "docker-compose.yaml"), "utf8")).toBe("services: {}\n");
  });

  test("a tampered bundle is refused", async () => {
    const { dir, img } = inputs();
    const out = join(dir, "b.tar.gz");
    expect((await runCli("dstackup", ["bundle", "create", "-o", out, "--image", img.dir])).code).toBe(0);
    const bytes = readFileSync(out);
    bytes[bytes.length - 30] = (bytes[bytes.length - 30] ?? 0) ^ 0xff;
    writeFileSync(out, bytes);
    await expect(verifyAndExtractBundle(out, mkdtempSync(join(tmpdir(), "bx-")))).rejects.toThrow(/bundle checksum mismatch/);
  });

  test("a file altered inside the archive (outer checksum absent) is refused by SHA256SUMS", async () => {
    const { dir, img } = inputs();
    const out = join(dir, "c.tar.gz");
    expect((await runCli("dstackup", ["bundle", "create", "-o", out, "--image", img.dir, "--vmm-bin", join(dir, "dstack-vmm")])).code).toBe(
      0,
    );
    const x = mkdtempSync(join(tmpdir(), "bx-"));
    Bun.spawnSync(["tar", "-xzf", out, "-C", x]);
    writeFileSync(join(x, "bin", "dstack-vmm"), "#!/bin/sh\necho evil\n");
    const evil = join(dir, "evil.tar.gz");
    Bun.spawnSync(["tar", "-czf", evil, "-C", x, "."]);
    await expect(verifyAndExtractBundle(evil, mkdtempSync(join(tmpdir(), "bx-")))).rejects.toThrow(
      /bin\/dstack-vmm does not match its checksum/,
    );
  });

  test("a consistent but rewritten manifest pointing outside its fixed places is refused", async () => {
    const { dir, img } = inputs();
    const out = join(dir, "d.tar.gz");
    expect((await runCli("dstackup", ["bundle", "create", "-o", out, "--image", img.dir, "--vmm-bin", join(dir, "dstack-vmm")])).code).toBe(
      0,
    );
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
      return evil;
    };
    await expect(verifyAndExtractBundle(rewrite({ vmm_bin: "../../usr/bin/evil" }), mkdtempSync(join(tmpdir(), "bx-")))).rejects.toThrow(
      /vmm_bin must be "bin\/dstack-vmm"/,
    );
    await expect(
      verifyAndExtractBundle(rewrite({ vmm_bin: "bin/dstack-vmm", image: ".." }), mkdtempSync(join(tmpdir(), "bx-"))),
    ).rejects.toThrow(/is not an image directory inside the bundle/);
    // the untouched bundle still verifies
    const ok = await verifyAndExtractBundle(out, mkdtempSync(join(tmpdir(), "bx-")));
    expect(ok.imageName).toBe("dstack-0.5.5");
  });

  test("an empty bundle is a usage error", async () => {
    const r = await runCli("dstackup", ["bundle", "create", "-o", join(tmpdir(), "x.tar.gz")]);
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
      (await runCli("dstackup", ["bundle", "create", "-o", out, ...bins, "--image", img.dir, "--key-provider-src", join(dir, "kp")])).code,
    ).toBe(0);
    const prefix = mkdtempSync(join(tmpdir(), "bundle-install-"));
    const base = 27000 + Math.floor(Math.random() * 2000);
    const flags = [
      "--simulate",
      "--service-manager",
      "detached",
      "--prefix",
      prefix,
      "--dashboard-port",
      String(base),
      "--auth-port",
      String(base + 1),
      "--no-kms",
      "--bundle",
      out,
    ];
    try {
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
