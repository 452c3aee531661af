import { rmSync } from "node:fs";
import { DstackError, NotFoundError, RefusedError } from "../../core/errors.ts";
import { DEFAULT_RELEASE_API } from "../../core/images/release.ts";
import { type Io, out } from "../../core/io.ts";
import { resolveLayout } from "../../core/layout.ts";
import { formatBytes, formatJson, formatTable } from "../../core/text/output.ts";
import { pullImage } from "../../host/images/image-pull.ts";
import { checkImageName, listImages, readImage } from "../../host/images/images.ts";
import { readInstallState } from "../../host/install/state.ts";
import { outputArgs, prefixArgs } from "../shared/args.ts";
import { defineCommand } from "../shared/command.ts";
import { lockArgs, locked } from "./lock-args.ts";

const dirArgs = {
  ...prefixArgs,
  "image-path": { type: "string", description: "Image directory (default <state>/images)", valueHint: "DIR" },
} as const;

function where(args: { prefix?: string; "image-path"?: string }) {
  const layout = resolveLayout({ prefix: args.prefix, imageDir: args["image-path"] });
  const st = readInstallState(layout.stateFile);
  return { layout, dir: layout.imageDir, pinned: st?.image ?? undefined };
}

const pull = defineCommand({
  meta: { name: "pull", description: "Download a guest image release (SHA-256 verified, resumable)" },
  args: {
    version: { type: "string", description: "Guest-OS version (default: the latest guest-os release)" },
    gpu: { type: "boolean", description: "Prefer the GPU-capable (nvidia) image" },
    force: { type: "boolean", description: "Download again even if present" },
    insecure: { type: "boolean", description: "Allow a release that publishes no sha256 digest (not recommended)" },
    "release-api-base-url": { type: "string", default: DEFAULT_RELEASE_API, description: "GitHub-compatible releases API base" },
    ...dirArgs,
    ...lockArgs,
    ...outputArgs,
  },
  async run({ args, io }) {
    const { layout, dir } = where(args);
    const tty = io.isTTY.stderr && !args.quiet;
    let lastPct = -1;
    const r = await locked(layout, args, io, () =>
      pullImage({
        imageDir: dir,
        version: args.version,
        gpu: args.gpu === true,
        force: args.force === true,
        insecure: args.insecure === true,
        releaseApiBaseUrl: String(args["release-api-base-url"]),
        onInfo: (m) => {
          if (!args.quiet) io.stderr(`${tty ? "\r\x1b[K" : ""}  ${m}\n`);
        },
        onProgress: (done, total) => {
          if (args.quiet) return;
          if (total) {
            const pct = Math.floor((done / total) * 100);
            if (tty) {
              const w = 30;
              const fill = Math.round((pct / 100) * w);
              io.stderr(`\r  [${"#".repeat(fill)}${"-".repeat(w - fill)}] ${pct}% ${formatBytes(done)}/${formatBytes(total)}`);
            } else if (pct >= lastPct + 25) {
              lastPct = pct - (pct % 25);
              io.stderr(`  downloading: ${lastPct}% of ${formatBytes(total)}\n`);
            }
          } else if (tty) io.stderr(`\r  ${formatBytes(done)}`);
        },
      }),
    );
    if (args.json)
      out(
        io,
        formatJson({
          name: r.image.name,
          version: r.image.version,
          digest: r.image.digest ?? null,
          downloaded: r.downloaded,
          resumed: r.resumed,
          release: r.tag,
        }),
      );
    else out(io, `${r.image.name}\nuse it with: dstackup install --image ${r.image.name}`);
  },
});

const list = defineCommand({
  meta: { name: "list", alias: ["ls"], description: "Local guest images (newest last)" },
  args: { ...dirArgs, ...outputArgs },
  run({ args, io }) {
    const { dir, pinned } = where(args);
    const imgs = listImages(dir);
    if (args.json) {
      out(
        io,
        formatJson(
          imgs.map((i) => ({
            name: i.name,
            version: i.version,
            digest: i.digest ?? null,
            size: i.size,
            pinned: i.name === pinned,
            simulated: i.simulated,
            dir: i.dir,
          })),
        ),
      );
      return;
    }
    if (imgs.length === 0) {
      io.stderr(
        `no guest image found in ${dir}\ndownload the latest with: dstackup image pull${args["image-path"] ? ` --image-path ${dir}` : ""}\n`,
      );
      return;
    }
    out(
      io,
      formatTable(imgs, [
        { header: "NAME", get: (i) => i.name },
        { header: "VERSION", get: (i) => i.version || "-" },
        { header: "DIGEST", get: (i) => (i.digest ? i.digest.slice(0, 16) : "(none: unpinnable)") },
        { header: "SIZE", get: (i) => formatBytes(i.size), right: true },
        { header: "PINNED", get: (i) => (i.name === pinned ? "yes" : "") },
      ]),
    );
  },
});

const rm = defineCommand({
  meta: { name: "rm", alias: ["remove"], description: "Remove local guest images (not the pinned one unless --force)" },
  args: {
    names: { type: "positional", required: true, description: "Image names", valueHint: "NAME…", variadic: true },
    force: { type: "boolean", description: "Also remove the image the current install is pinned to" },
    ...dirArgs,
    ...lockArgs,
    ...outputArgs,
  },
  run({ args, io }) {
    const { layout } = where(args);
    return locked(layout, args, io, async () => removeImages(args, io));
  },
});

function removeImages(
  args: {
    _: string[];
    force?: boolean | undefined;
    json?: boolean | undefined;
    prefix?: string | undefined;
    "image-path"?: string | undefined;
  },
  io: Io,
): number {
  const { dir, pinned } = where(args);
  const names = args._;
  for (const n of names) checkImageName(n);
  const missing = names.filter((n) => !readImage(dir, n));
  if (missing.length === names.length) {
    throw new NotFoundError(`${missing.join(", ")}: not found in ${dir}`, { hint: "see `dstackup image list`" });
  }
  if (pinned && names.includes(pinned) && !args.force) {
    throw new RefusedError(`${pinned} is the image the current install runs and pins; removing it breaks new apps`, {
      hint: `pass --force to remove it anyway, or re-install with another --image first`,
    });
  }
  const removed: string[] = [];
  for (const n of names) {
    if (missing.includes(n)) {
      io.stderr(`  [!]  ${n}: not found in ${dir}\n`);
      continue;
    }
    rmSync(readImage(dir, n)!.dir, { recursive: true, force: true });
    removed.push(n);
    if (!args.json) io.stderr(`  [ok] removed ${n}\n`);
  }
  if (args.json) out(io, formatJson({ removed, missing }));
  if (removed.length === 0) throw new DstackError("removed nothing (see `dstackup image list`)");
  return missing.length ? 3 : 0;
}

export default defineCommand({
  meta: { name: "image", description: "Guest images: pull, list, rm" },
  subCommands: { pull, list, rm },
});
