/**
 * Guest images on disk (Dstack-TEE/dstack: dstack/vmm/src/app/image.rs): one directory per image under
 * the image dir, named for the image, holding metadata.json and digest.txt.
 *
 *   listImages(imageDir) → ImageEntry[]                 (newest last, by dir mtime)
 *   resolveImage(imageDir, name?, {requireDigest})      → the image install pins (upstream: dstack/crates/dstackup/src/install.rs)
 *   createSimulatedImage(imageDir, name, version?)      → a guest image for the simulator
 *   readImagePin(dir)                                   → trimmed digest.txt, or undefined
 *
 * Downloading one is pullImage({imageDir, version?, gpu?, force?, insecure?,
 * releaseApiBaseUrl}) in ./image-pull.ts (kept apart so callers that only
 * list or resolve do not load the download code).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { NotFoundError, RefusedError, UsageError } from "../../core/errors.ts";
import { writeAtomic } from "../../core/fsutil.ts";
import { sha256Hex } from "../../core/hash.ts";

export interface ImageEntry {
  name: string;
  dir: string;
  version: string;
  isDev: boolean;
  digest: string | undefined;
  /** Total bytes of the files in the image dir. */
  size: number;
  simulated: boolean;
  mtimeMs: number;
}

/** A plain directory-name component: no separators, not hidden, not . or .. */
export function checkImageName(name: string): string {
  if (!name || name === "." || name === ".." || name.startsWith(".") || /[/\\]/.test(name) || name.length > 64) {
    throw new UsageError(`invalid image name ${JSON.stringify(name)}: use a plain directory name such as dstack-0.5.5`);
  }
  return name;
}

export function readImagePin(dir: string): string | undefined {
  try {
    const pin = readFileSync(join(dir, "digest.txt"), "utf8").trim();
    return pin === "" ? undefined : pin;
  } catch {
    return undefined;
  }
}

function dirSize(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += dirSize(p);
    else if (e.isFile()) total += statSync(p).size;
  }
  return total;
}

/** Version from metadata, else guessed from the dir name (dstack-X, dstack-dev-X, dstack-nvidia-X). */
export function imageVersion(name: string, metaVersion: unknown): string {
  if (typeof metaVersion === "string" && metaVersion !== "") return metaVersion;
  const m = /^dstack(?:-nvidia)?(?:-dev)?-(\d.*)$/.exec(name);
  return m ? m[1]! : "";
}

export function readImage(imageDir: string, name: string): ImageEntry | undefined {
  const dir = join(imageDir, name);
  let meta: Record<string, unknown>;
  try {
    meta = JSON.parse(readFileSync(join(dir, "metadata.json"), "utf8"));
    if (typeof meta !== "object" || meta === null) return undefined;
  } catch {
    return undefined;
  }
  return {
    name,
    dir,
    version: imageVersion(name, meta.version),
    isDev: meta.is_dev === true,
    digest: readImagePin(dir),
    size: dirSize(dir),
    simulated: meta.simulated === true,
    mtimeMs: statSync(dir).mtimeMs,
  };
}

/** Every loadable image (a subdirectory with a metadata.json), oldest first by dir mtime. */
export function listImages(imageDir: string): ImageEntry[] {
  if (!existsSync(imageDir)) return [];
  const out: ImageEntry[] = [];
  for (const e of readdirSync(imageDir, { withFileTypes: true })) {
    if (!e.isDirectory() || e.name.startsWith(".")) continue;
    const img = readImage(imageDir, e.name);
    if (img) out.push(img);
  }
  return out.sort((a, b) => a.mtimeMs - b.mtimeMs || a.name.localeCompare(b.name));
}

export interface ResolveOptions {
  /** Refuse an image without digest.txt (KMS mode without --allow-unpinned-image). */
  requireDigest: boolean;
}

/**
 * The image an install uses: the named one, else the newest local one that has
 * what is required. Throws NotFoundError when there is none (the caller may pull).
 */
export function resolveImage(imageDir: string, name: string | undefined, opts: ResolveOptions): ImageEntry {
  if (name !== undefined) {
    checkImageName(name);
    const img = readImage(imageDir, name);
    if (!img) {
      throw new NotFoundError(`image '${name}' not found in ${imageDir}`, {
        hint: `pull it with \`dstackup image pull --version ${name.replace(/^dstack-/, "")}\` or list local images with \`dstackup image list\``,
      });
    }
    if (opts.requireDigest && !img.digest) {
      throw new RefusedError(`image ${name} is missing required file(s): digest.txt`, {
        hint: "the KMS pins the OS image by digest.txt; use a release image, or pass --allow-unpinned-image to run unpinned",
      });
    }
    return img;
  }
  const all = listImages(imageDir);
  const usable = opts.requireDigest ? all.filter((i) => i.digest) : all;
  const newest = usable[usable.length - 1];
  if (!newest) {
    throw new NotFoundError(`no guest image${opts.requireDigest ? " with digest.txt" : ""} in ${imageDir}`, {
      hint: "pull one with `dstackup image pull`",
    });
  }
  return newest;
}

const SIM_FILES: Record<string, string> = {
  bzImage: "simulated kernel: not bootable, for dstack-vmm-sim only\n",
  "initramfs.cpio.gz": "simulated initramfs: not bootable, for dstack-vmm-sim only\n",
  "rootfs.img.parted.verity": "simulated rootfs: not bootable, for dstack-vmm-sim only\n",
  "ovmf.fd": "simulated firmware: not bootable, for dstack-vmm-sim only\n",
};

/**
 * Write a simulated guest image: real layout (metadata.json, digest.txt,
 * sha256sum.txt, the referenced files), placeholder contents marked simulated.
 * digest.txt = sha256 of sha256sum.txt, as in a release image. Idempotent.
 */
export function createSimulatedImage(imageDir: string, name = "dstack-sim-0.5.5", version = "0.5.5"): ImageEntry {
  checkImageName(name);
  const dir = join(imageDir, name);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const files: Record<string, string> = { ...SIM_FILES };
  const metadata = {
    bios: "ovmf.fd",
    kernel: "bzImage",
    cmdline: "console=ttyS0 init=/init panic=1 dstack.simulated=1",
    initrd: "initramfs.cpio.gz",
    rootfs: "rootfs.img.parted.verity",
    version,
    is_dev: false,
    shared_ro: true,
    simulated: true,
  };
  files["metadata.json"] = `${JSON.stringify(metadata, null, 2)}\n`;
  const sums = `${Object.keys(files)
    .sort()
    .map((f) => `${sha256Hex(files[f]!)}  ${f}`)
    .join("\n")}\n`;
  files["sha256sum.txt"] = sums;
  files["digest.txt"] = `${sha256Hex(sums)}\n`;
  for (const [f, body] of Object.entries(files)) {
    const p = join(dir, f);
    const cur = existsSync(p) ? readFileSync(p, "utf8") : undefined;
    if (cur !== body) writeAtomic(p, body, { mode: 0o644 });
  }
  return readImage(imageDir, name)!;
}
