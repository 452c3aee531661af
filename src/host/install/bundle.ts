/**
 * Offline bundles: everything a host install needs besides our own binary —
 * dstack-vmm and supervisor binaries, a guest image, the key provider's
 * compose directory — in one tar.gz with a SHA256SUMS of every file inside,
 * FILE.sha256 beside it, and FILE.sha256.sig: that checksum signed with the
 * maker's SSH key (ssh-keygen -Y sign, namespace dstack-bundle), as a release's
 * SHA256SUMS is.
 *
 *   createBundle({out, signKey, vmmBin?, supervisorBin?, imageDir?, keyProviderSrc?}) → {files, sha256}
 *   verifyAndExtractBundle(file, destDir, trust) → BundleContents
 *     (the signature, then the bundle's checksum, before unpacking; every file's after)
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative } from "node:path";
import { DstackError, NotFoundError, RefusedError, UsageError } from "../../core/errors.ts";
import { writeAtomic } from "../../core/fsutil.ts";
import { sha256Hex } from "../../core/hash.ts";
import { BUNDLE_NAMESPACE } from "../../core/signing-key.ts";
import { readImage } from "../images/images.ts";
import { runTool } from "../runner.ts";
import { haveSshKeygen, signFile, type VerifyOptions, verifySignature } from "../signature.ts";

export interface BundleManifest {
  format: "dstack-bundle/1";
  created_at: string;
  vmm_bin?: string;
  supervisor_bin?: string;
  image?: string;
  key_provider?: string;
}

export interface BundleContents {
  root: string;
  manifest: BundleManifest;
  vmmBin?: string;
  supervisorBin?: string;
  /** directory holding the image dir (an image path) */
  imageDir?: string;
  imageName?: string;
  keyProviderSrc?: string;
}

const sha256File = (p: string) => sha256Hex(readFileSync(p));

function walk(root: string, dir = root): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isSymbolicLink()) throw new RefusedError(`bundles may not contain symlinks: ${relative(root, p)}`);
    if (e.isDirectory()) out.push(...walk(root, p));
    else if (e.isFile()) out.push(relative(root, p));
  }
  return out.sort();
}

export interface CreateOptions {
  out: string;
  /** the maker's SSH private key: signs FILE.sha256 */
  signKey: string;
  vmmBin?: string | undefined;
  supervisorBin?: string | undefined;
  /** an image directory (containing metadata.json) */
  image?: string | undefined;
  keyProviderSrc?: string | undefined;
}

export async function createBundle(o: CreateOptions): Promise<{ files: number; sha256: string; bytes: number }> {
  if (!existsSync(o.signKey)) throw new NotFoundError(`--sign-key ${o.signKey} not found`);
  const stage = mkdtempSync(join(tmpdir(), "dstack-bundle-"));
  try {
    const manifest: BundleManifest = { format: "dstack-bundle/1", created_at: new Date().toISOString() };
    const add = (src: string, dest: string, what: string) => {
      if (!existsSync(src)) throw new NotFoundError(`${what} not found: ${src}`);
      mkdirSync(dirname(join(stage, dest)), { recursive: true });
      cpSync(src, join(stage, dest), { recursive: true, dereference: true });
    };
    if (o.vmmBin) {
      add(o.vmmBin, "bin/dstack-vmm", "--vmm-bin");
      manifest.vmm_bin = "bin/dstack-vmm";
    }
    if (o.supervisorBin) {
      add(o.supervisorBin, "bin/supervisor", "--supervisor-bin");
      manifest.supervisor_bin = "bin/supervisor";
    }
    if (o.image) {
      const name = basename(o.image.replace(/\/+$/, ""));
      const img = readImage(dirname(o.image.replace(/\/+$/, "")), name);
      if (!img) throw new NotFoundError(`--image ${o.image} is not a guest image directory (no metadata.json)`);
      if (!img.digest) throw new RefusedError(`image ${name} has no digest.txt; a bundle must carry a pinnable image`);
      add(o.image, `images/${name}`, "--image");
      manifest.image = name;
    }
    if (o.keyProviderSrc) {
      if (!existsSync(join(o.keyProviderSrc, "docker-compose.yaml")))
        throw new NotFoundError(`--key-provider-src ${o.keyProviderSrc} has no docker-compose.yaml`);
      add(o.keyProviderSrc, "key-provider", "--key-provider-src");
      manifest.key_provider = "key-provider";
    }
    if (!manifest.vmm_bin && !manifest.supervisor_bin && !manifest.image && !manifest.key_provider) {
      throw new UsageError("an empty bundle: pass at least one of --vmm-bin, --supervisor-bin, --image, --key-provider-src");
    }
    writeAtomic(join(stage, "bundle.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    const files = walk(stage);
    writeAtomic(join(stage, "SHA256SUMS"), `${files.map((f) => `${sha256File(join(stage, f))}  ${f}`).join("\n")}\n`);
    mkdirSync(dirname(o.out), { recursive: true });
    const tmpOut = `${o.out}.tmp-${process.pid}`;
    const t = await runTool(["tar", "-czf", tmpOut, "-C", stage, "--owner=0", "--group=0", "--numeric-owner", "SHA256SUMS", ...files], {
      timeoutMs: 900_000,
    });
    if (t.code !== 0) throw new DstackError(`tar failed: ${t.stderr.trim()}`);
    const { renameSync } = await import("node:fs");
    renameSync(tmpOut, o.out);
    const sha = sha256File(o.out);
    writeAtomic(`${o.out}.sha256`, `${sha}  ${basename(o.out)}\n`);
    await signFile(`${o.out}.sha256`, o.signKey, BUNDLE_NAMESPACE);
    return { files: files.length, sha256: sha, bytes: statSync(o.out).size };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/** Whom a bundle must be signed by, and what to do on a host without ssh-keygen. */
export type BundleTrust = Omit<VerifyOptions, "namespace">;

export async function verifyAndExtractBundle(file: string, destDir: string, trust: BundleTrust): Promise<BundleContents> {
  if (!existsSync(file)) throw new NotFoundError(`bundle not found: ${file}`);
  const side = `${file}.sha256`;
  // the signature vouches for FILE.sha256, which vouches for the bundle: both before tar reads a byte
  const opts = { ...trust, namespace: BUNDLE_NAMESPACE };
  if (existsSync(side)) {
    await verifySignature(side, `${side}.sig`, opts);
    const want = readFileSync(side, "utf8").trim().split(/\s+/)[0];
    const got = sha256File(file);
    if (want !== got)
      throw new RefusedError(`bundle checksum mismatch (expected ${want}, got ${got}): refusing a tampered or corrupt bundle`);
  } else {
    if (await haveSshKeygen())
      throw new RefusedError(
        `bundle ${basename(file)} has no ${basename(side)} (nor its signature) beside it: refusing a bundle nobody vouches for`,
      );
    await verifySignature(side, `${side}.sig`, opts); // warns, or refuses under requireSignature
  }
  mkdirSync(destDir, { recursive: true, mode: 0o700 });
  const t = await runTool(["tar", "-xzf", file, "-C", destDir, "--no-same-owner"], { timeoutMs: 900_000 });
  if (t.code !== 0) throw new RefusedError(`cannot unpack bundle ${file}: ${t.stderr.trim()}`);
  const sumsPath = join(destDir, "SHA256SUMS");
  if (!existsSync(sumsPath)) throw new RefusedError(`bundle ${file} has no SHA256SUMS`);
  const listed = new Map<string, string>();
  for (const line of readFileSync(sumsPath, "utf8").split("\n").filter(Boolean)) {
    const m = /^([0-9a-f]{64}) {2}(.+)$/.exec(line);
    if (!m || m[2]!.split("/").includes("..") || m[2]!.startsWith("/"))
      throw new RefusedError(`bad SHA256SUMS line in bundle: ${JSON.stringify(line)}`);
    listed.set(m[2]!, m[1]!);
  }
  const present = walk(destDir).filter((f) => f !== "SHA256SUMS");
  for (const f of present) {
    const want = listed.get(f);
    if (!want) throw new RefusedError(`bundle file ${f} is not listed in its SHA256SUMS`);
    const got = sha256File(join(destDir, f));
    if (got !== want) throw new RefusedError(`bundle file ${f} does not match its checksum (expected ${want}, got ${got})`);
  }
  for (const f of listed.keys()) if (!present.includes(f)) throw new RefusedError(`bundle is missing ${f}, listed in its SHA256SUMS`);
  const manifest = JSON.parse(readFileSync(join(destDir, "bundle.json"), "utf8")) as BundleManifest;
  if (manifest.format !== "dstack-bundle/1") throw new RefusedError(`unknown bundle format ${JSON.stringify(manifest.format)}`);
  // the manifest only names the fixed places createBundle writes; anything else is refused
  const fixed: [keyof BundleManifest, string][] = [
    ["vmm_bin", "bin/dstack-vmm"],
    ["supervisor_bin", "bin/supervisor"],
    ["key_provider", "key-provider"],
  ];
  for (const [k, want] of fixed) {
    if (manifest[k] !== undefined && manifest[k] !== want)
      throw new RefusedError(`bundle.json: ${k} must be ${JSON.stringify(want)}, not ${JSON.stringify(manifest[k])}`);
  }
  if (manifest.image !== undefined) {
    if (
      typeof manifest.image !== "string" ||
      !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(manifest.image) ||
      !existsSync(join(destDir, "images", manifest.image, "metadata.json"))
    ) {
      throw new RefusedError(`bundle.json: image ${JSON.stringify(manifest.image)} is not an image directory inside the bundle`);
    }
  }
  const c: BundleContents = { root: destDir, manifest };
  if (manifest.vmm_bin) c.vmmBin = join(destDir, manifest.vmm_bin);
  if (manifest.supervisor_bin) c.supervisorBin = join(destDir, manifest.supervisor_bin);
  if (manifest.image) {
    c.imageDir = join(destDir, "images");
    c.imageName = manifest.image;
  }
  if (manifest.key_provider) c.keyProviderSrc = join(destDir, manifest.key_provider);
  return c;
}
