import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ExitCode } from "../../../src/core/errors.ts";
import { createSimulatedImage, imageVersion, listImages, resolveImage } from "../../../src/host/images/images.ts";

const tmp = () => mkdtempSync(join(tmpdir(), "dstack-img-"));

describe("guest images", () => {
  test("a simulated image has the release layout and digest = sha256(sha256sum.txt)", () => {
    const dir = tmp();
    const img = createSimulatedImage(dir, "dstack-sim-0.5.5");
    const meta = JSON.parse(readFileSync(join(img.dir, "metadata.json"), "utf8"));
    for (const f of [meta.kernel, meta.initrd, meta.rootfs, meta.bios])
      expect(readFileSync(join(img.dir, f), "utf8")).toContain("simulated");
    const sums = readFileSync(join(img.dir, "sha256sum.txt"));
    expect(img.digest).toBe(new Bun.CryptoHasher("sha256").update(sums).digest("hex"));
    expect(img.version).toBe("0.5.5");
    expect(img.simulated).toBe(true);
    // idempotent: same digest, files untouched
    expect(createSimulatedImage(dir, "dstack-sim-0.5.5").digest).toBe(img.digest);
  });

  test("resolveImage picks the newest usable image and skips unpinned ones when a digest is required", () => {
    const dir = tmp();
    createSimulatedImage(dir, "dstack-0.5.4", "0.5.4");
    utimesSync(join(dir, "dstack-0.5.4"), new Date(1000_000), new Date(1000_000));
    mkdirSync(join(dir, "dstack-0.5.9"));
    writeFileSync(join(dir, "dstack-0.5.9", "metadata.json"), "{}");
    mkdirSync(join(dir, ".staging"));
    expect(listImages(dir).map((i) => i.name)).toEqual(["dstack-0.5.4", "dstack-0.5.9"]);
    expect(resolveImage(dir, undefined, { requireDigest: true }).name).toBe("dstack-0.5.4");
    expect(resolveImage(dir, undefined, { requireDigest: false }).name).toBe("dstack-0.5.9");
    expect(imageVersion("dstack-0.5.9", undefined)).toBe("0.5.9");
  });

  test("a named image must exist and carry digest.txt when required", () => {
    const dir = tmp();
    mkdirSync(join(dir, "dstack-0.5.9"));
    writeFileSync(join(dir, "dstack-0.5.9", "metadata.json"), "{}");
    expect(() => resolveImage(dir, "dstack-0.5.9", { requireDigest: true })).toThrow(/missing required file\(s\): digest.txt/);
    try {
      resolveImage(dir, "nope", { requireDigest: false });
      throw new Error("no throw");
    } catch (e) {
      expect((e as { exitCode: number }).exitCode).toBe(ExitCode.notFound);
    }
    expect(() => resolveImage(dir, "../etc", { requireDigest: false })).toThrow(/invalid image name/);
    expect(() => resolveImage(tmp(), undefined, { requireDigest: true })).toThrow(/no guest image/);
  });
});
