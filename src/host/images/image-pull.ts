/**
 * Pull a guest image from a GitHub-compatible releases API: look the release
 * up, download the tarball to `<dir>/.<asset>.partial` (resumed with an HTTP
 * Range request after an interruption), verify its SHA-256 (required unless
 * insecure), unpack into `<dir>/.<asset>.staging`, and adopt the image by
 * rename only when it has metadata.json and digest.txt. A bad archive adopts nothing.
 */
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DstackError, NotFoundError, RefusedError } from "../../core/errors.ts";
import { assetSha256, pickAsset, type Release, releaseUrls } from "../../core/images/release.ts";
import { runTool } from "../runner.ts";
import { type ImageEntry, readImage } from "./images.ts";

export interface PullOptions {
  imageDir: string;
  version?: string | undefined;
  gpu?: boolean;
  force?: boolean;
  insecure?: boolean;
  releaseApiBaseUrl: string;
  /** bytes done, total (undefined when unknown) */
  onProgress?: (done: number, total: number | undefined) => void;
  onInfo?: (msg: string) => void;
}

export interface PullResult {
  image: ImageEntry;
  downloaded: boolean;
  resumed: boolean;
  tag: string;
  asset: string;
}

const HEADERS = { "user-agent": "dstackup", accept: "application/vnd.github+json" };

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  let r: Response;
  try {
    r = await fetch(url, { headers: HEADERS, signal: AbortSignal.timeout(30_000) });
  } catch (e) {
    throw new DstackError(`github release lookup failed; check ${url} (${(e as Error).message})`);
  }
  return { status: r.status, body: r.ok ? await r.json() : undefined };
}

export async function findRelease(base: string, version?: string): Promise<Release> {
  const urls = releaseUrls(base, version);
  if (urls.tag) {
    const r = await getJson(urls.tag);
    if (r.status === 404) throw new NotFoundError(`guest-OS version ${version} was not found; check ${urls.tag}`);
    if (!r.body) throw new DstackError(`github release lookup failed (HTTP ${r.status}); check ${urls.tag}`);
    return r.body as Release;
  }
  const list = await getJson(urls.list!);
  const found = Array.isArray(list.body) ? (list.body as Release[]).find((x) => x.tag_name?.startsWith("guest-os-v")) : undefined;
  if (found) return found;
  const fb = await getJson(urls.fallback!);
  if (!fb.body) throw new NotFoundError("no guest-OS release found; check https://github.com/Dstack-TEE/dstack/releases?q=guest-os-v");
  return fb.body as Release;
}

async function download(
  url: string,
  partial: string,
  onProgress?: PullOptions["onProgress"],
): Promise<{ sha256: string; resumed: boolean; complete?: boolean }> {
  const hasher = new Bun.CryptoHasher("sha256");
  let have = existsSync(partial) ? statSync(partial).size : 0;
  const headers: Record<string, string> = { "user-agent": "dstackup" };
  if (have > 0) headers.range = `bytes=${have}-`;
  const r = await fetch(url, { headers, redirect: "follow" });
  let resumed = false;
  if (r.status === 416 && have > 0) {
    // Nothing after what we have: the partial is complete (killed after the download, e.g.
    // during the unpack). Take it as it is; the caller's checksum decides.
    const total = Number(/\/(\d+)\s*$/.exec(r.headers.get("content-range") ?? "")?.[1] ?? NaN);
    await r.body?.cancel();
    if (Number.isFinite(total) && total !== have) {
      // longer than the file: not a piece of it; drop it and download from the start
      rmSync(partial, { force: true });
      return download(url, partial, onProgress);
    }
    hasher.update(readFileSync(partial));
    onProgress?.(have, have);
    return { sha256: hasher.digest("hex"), resumed: true, complete: true };
  }
  if (r.status === 206 && have > 0) {
    hasher.update(readFileSync(partial));
    resumed = true;
  } else if (r.ok) {
    writeFileSync(partial, "");
    have = 0;
  } else {
    throw new DstackError(`downloading ${url} failed: HTTP ${r.status}`);
  }
  const len = Number(r.headers.get("content-length") ?? NaN);
  const total = Number.isFinite(len) ? have + len : undefined;
  let done = have;
  const reader = r.body!.getReader();
  for (;;) {
    const { done: end, value } = await reader.read();
    if (end) break;
    hasher.update(value);
    appendFileSync(partial, value);
    done += value.length;
    onProgress?.(done, total);
  }
  if (total !== undefined && done !== total)
    throw new DstackError(`download of ${url} ended early (${done} of ${total} bytes); run the pull again to resume`);
  return { sha256: hasher.digest("hex"), resumed };
}

export async function pullImage(o: PullOptions): Promise<PullResult> {
  const info = o.onInfo ?? (() => {});
  const rel = await findRelease(o.releaseApiBaseUrl, o.version);
  const asset = pickAsset(rel, o.gpu === true);
  const expected = asset.name.replace(/\.tar\.gz$/, "");
  const present = readImage(o.imageDir, expected);
  if (present && !o.force) {
    info(`${expected} already present (use --force to re-download)`);
    return { image: present, downloaded: false, resumed: false, tag: rel.tag_name, asset: asset.name };
  }
  const want = assetSha256(asset);
  if (!want && !o.insecure) {
    throw new RefusedError(
      "this release publishes no sha256 digest to verify the download against — pass --insecure to proceed unverified (not recommended)",
    );
  }
  info(`release ${rel.tag_name} -> ${asset.name}`);
  mkdirSync(o.imageDir, { recursive: true, mode: 0o755 });
  const partial = join(o.imageDir, `.${asset.name}.partial`);
  const staging = join(o.imageDir, `.${asset.name}.staging`);
  rmSync(staging, { recursive: true, force: true });
  if (o.force) rmSync(partial, { force: true });
  let { sha256, resumed, complete } = await download(asset.browser_download_url, partial, o.onProgress);
  if (complete) info("an earlier download was already complete; verifying it");
  else if (resumed) info("resumed the interrupted download");
  if (want && sha256 !== want && resumed) {
    // A stale or foreign partial: start over once before calling the download bad.
    info("the resumed download does not match its checksum; downloading it again from the start");
    rmSync(partial, { force: true });
    ({ sha256, resumed, complete } = await download(asset.browser_download_url, partial, o.onProgress));
  }
  if (want && sha256 !== want) {
    rmSync(partial, { force: true });
    throw new RefusedError(`image checksum mismatch (expected ${want}, got ${sha256}) — refusing a tampered or corrupt download`);
  }
  info(want ? "sha256 verified" : "integrity not verified (--insecure)");
  try {
    mkdirSync(staging, { recursive: true });
    const t = await runTool(["tar", "-xzf", partial, "-C", staging, "--no-same-owner", "--no-same-permissions"], { timeoutMs: 600_000 });
    if (t.code !== 0) throw new RefusedError(`failed to unpack ${asset.name}: ${t.stderr.trim()}`);
    const inner = readdirSync(staging).find((d) => !d.startsWith(".") && existsSync(join(staging, d, "metadata.json")));
    if (!inner) throw new RefusedError("unpacked tarball has no image dir with a metadata.json");
    if (!existsSync(join(staging, inner, "digest.txt")))
      throw new RefusedError(`image ${inner} has no digest.txt: it cannot be pinned; not adopted`);
    rmSync(join(o.imageDir, inner), { recursive: true, force: true });
    renameSync(join(staging, inner), join(o.imageDir, inner));
    const img = readImage(o.imageDir, inner);
    if (!img) throw new DstackError(`downloaded image ${inner}, but it is not available in ${o.imageDir}`);
    info(`image ready: ${inner}`);
    return { image: img, downloaded: true, resumed, tag: rel.tag_name, asset: asset.name };
  } finally {
    rmSync(staging, { recursive: true, force: true });
    rmSync(partial, { force: true });
  }
}
