/** Guest-OS releases on a GitHub-compatible releases API (Dstack-TEE/dstack: dstack/crates/dstackup/src/image.rs). Pure. */
import { UsageError } from "../errors.ts";

export const DEFAULT_RELEASE_API = "https://api.github.com/repos";

export interface ReleaseAsset {
  name: string;
  browser_download_url: string;
  digest?: string | null;
  size?: number;
}

export interface Release {
  tag_name: string;
  assets: ReleaseAsset[];
}

export function normalizeVersion(v: string): string {
  const s = v
    .trim()
    .replace(/^guest-os-v/, "")
    .replace(/^v+/, "");
  if (!/^\d+\.\d+\.\d+([-.][A-Za-z0-9.-]*)?$/.test(s)) throw new UsageError(`invalid guest-OS version "${v}"; expected MAJOR.MINOR.PATCH`);
  return s;
}

function older(v: string, than: [number, number, number]): boolean {
  const parts = v
    .split(".")
    .slice(0, 3)
    .map((p) => parseInt(p, 10));
  for (let i = 0; i < 3; i++) {
    if (parts[i]! !== than[i]) return parts[i]! < than[i]!;
  }
  return false;
}

/** The API URL(s) to look the release up: one for a version; list + fallback for latest. */
export function releaseUrls(base: string, version?: string): { list?: string; fallback?: string; tag?: string } {
  const b = base.trim().replace(/\/+$/, "");
  if (version === undefined) {
    return { list: `${b}/Dstack-TEE/dstack/releases?per_page=100`, fallback: `${b}/Dstack-TEE/meta-dstack/releases/latest` };
  }
  const v = normalizeVersion(version);
  return {
    tag: older(v, [0, 6, 0]) ? `${b}/Dstack-TEE/meta-dstack/releases/tags/v${v}` : `${b}/Dstack-TEE/dstack/releases/tags/guest-os-v${v}`,
  };
}

const PLAIN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The image tarball of a release: unified (CPU) by default, an nvidia one preferred with gpu. */
export function pickAsset(rel: Release, gpu: boolean): ReleaseAsset {
  const candidates = rel.assets.filter((a) => a.name.endsWith(".tar.gz") && !a.name.endsWith("-uki.tar.gz") && !a.name.includes("-dev"));
  const unified = candidates.filter((a) => a.name.startsWith("dstack-") && !a.name.startsWith("dstack-nvidia-"));
  const nvidia = candidates.filter((a) => a.name.startsWith("dstack-nvidia-"));
  const pick = gpu ? (nvidia[0] ?? unified[0]) : unified[0];
  if (!pick) {
    throw new UsageError(
      `no suitable ${gpu ? "GPU-capable" : "unified"} image tarball in guest-OS release ${rel.tag_name} (assets: ${rel.assets.map((a) => a.name).join(", ") || "none"})`,
    );
  }
  if (!PLAIN.test(pick.name)) throw new UsageError(`refusing release asset with an unsafe name "${pick.name}"`);
  return pick;
}

/** sha256 hex from an asset's `digest` ("sha256:<hex>"), or undefined. */
export function assetSha256(a: ReleaseAsset): string | undefined {
  const d = (a.digest ?? "").trim().toLowerCase();
  const m = /^sha256:([0-9a-f]{64})$/.exec(d);
  return m ? m[1] : undefined;
}
