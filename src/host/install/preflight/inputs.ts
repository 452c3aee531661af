/** Preflight checks of the files the install takes as they are: the allowlist a re-run keeps, the guest image it pins. */
import { existsSync } from "node:fs";
import { parseAllowlist } from "../../../auth/allowlist.ts";
import { readAllowlistText } from "../../../auth/allowlist-read.ts";
import type { DstackError } from "../../../core/errors.ts";
import { MIN_IMAGE_VERSION, versionAtLeast } from "../../../core/images/image-version.ts";
import type { ImageEntry } from "../../images/images.ts";
import type { CheckResult } from "./result.ts";

/** The state file of an earlier install: the re-run keeps its choices. A damaged one is not written over unless ignored. */
export function checkState(path: string, problem: DstackError | undefined, exists: boolean): CheckResult | undefined {
  if (problem) {
    return {
      name: "state",
      ok: false,
      detail: problem.message,
      fix: `move it away (mv ${path} ${path}.bad), or pass --ignore-preflight-errors state to write over it (what it recorded is lost: destroy --purge then keeps the files the earlier install created)`,
    };
  }
  return exists ? { name: "state", ok: true, detail: `${path}: an earlier install (its choices are kept)` } : undefined;
}

/** The allowlist a re-run keeps must be valid, or the apply would stop half-way. None yet is fine (no check). */
export function checkAllowlist(path: string): CheckResult | undefined {
  if (!existsSync(path)) return undefined;
  try {
    parseAllowlist(readAllowlistText(path));
    return { name: "allowlist", ok: true, detail: `${path} is valid (its registered apps are kept)` };
  } catch (e) {
    return {
      name: "allowlist",
      ok: false,
      detail: `${path} is invalid: ${(e as Error).message}`,
      fix: `fix it (\`dstack-auth check --config ${path}\` shows the bad field), or move it away to start with an empty one`,
    };
  }
}

/** The guest image the plan settled on: one found, one to generate (simulate), or why none was found. */
export interface ImageChoice {
  image?: ImageEntry | undefined;
  /** A simulated image to generate at install. */
  createImage?: string | undefined;
  error?: DstackError | undefined;
  kmsMode: boolean;
  simulate: boolean;
  /** --image, if given. */
  requested: string | undefined;
  imageDir: string;
}

/** With the KMS, dstack-vmm starts CVMs only from images this new or newer: such an image is not pinned. */
export function imageTooOld(image: ImageEntry, kmsMode: boolean): boolean {
  return kmsMode && !versionAtLeast(image.version);
}

export function checkImage(c: ImageChoice): CheckResult {
  if (c.error) {
    if (!c.kmsMode && !c.requested) {
      return {
        name: "image",
        ok: true,
        warning: true,
        detail: `no guest image in ${c.imageDir}: deploying apps will need one (\`dstackup image pull\`)`,
      };
    }
    const fix = c.error.hint ?? "pull one with `dstackup image pull`";
    return {
      name: "image",
      ok: false,
      detail: c.error.message,
      fix: c.simulate && c.requested ? `leave out --image (--simulate generates a simulated guest image), or ${fix}` : fix,
    };
  }
  const image = c.image;
  if (!image) return { name: "image", ok: true, detail: `${c.createImage} (simulated guest image, generated at install)` };
  if (imageTooOld(image, c.kmsMode)) {
    return {
      name: "image",
      ok: false,
      detail: `${image.name} is version ${image.version || "unknown"}: dstack-vmm starts CVMs only from images ${MIN_IMAGE_VERSION.join(".")} or newer`,
      fix: "pull a newer one with `dstackup image pull`, or pass --image NAME of one",
    };
  }
  if (image.digest) {
    return { name: "image", ok: true, detail: `${image.name} (version ${image.version || "?"}), pinning app os image ${image.digest}` };
  }
  if (!c.kmsMode) return { name: "image", ok: true, detail: `${image.name} (no digest.txt: apps are not pinned; --no-kms)` };
  return {
    name: "image",
    ok: true,
    warning: true,
    detail: `${image.name}: app os image not pinned (--allow-unpinned-image) - apps' image is unchecked`,
  };
}
