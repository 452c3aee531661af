/**
 * `files:` as one archive measured into the compose hash. Each mapping's
 * container path is resolved as dstackai does — relative to the working dir,
 * `~` to the home dir, or absolute — and its entries are stored under `rel/`,
 * `home/` or `abs/` of one deterministic tar.gz, which the run's start script
 * unpacks in place. dstackai's upload limit (2 MiB) applies to the archive.
 */
import { posix } from "node:path";
import { UsageError } from "../../errors.ts";
import { type TarEntry, tarGz } from "./tar.ts";

export const FILES_LIMIT_BYTES = 2 * 1024 * 1024;

/** One local file or directory tree, read by the client. `rel` is "" for the mapping's root itself. */
export type LocalEntry = { rel: string; mode: number } & (
  | { kind: "file"; data: Uint8Array }
  | { kind: "dir" }
  | { kind: "symlink"; target: string }
);

export interface ResolvedFiles {
  /** the `files:` item as written, for messages */
  item: string;
  /** the container path as written */
  path: string;
  entries: LocalEntry[];
}

/** Where a container path goes in the archive: `rel/x`, `home/x` or `abs/x`. */
export function archiveRoot(path: string, workingDir: string | undefined): string {
  let p = path;
  if (workingDir && !p.startsWith("/") && !p.startsWith("~")) p = posix.join(workingDir, p);
  if (p === "~" || p.startsWith("~/")) {
    const rest = posix.normalize(`/${p.slice(1)}`).slice(1);
    return rest ? `home/${rest}` : "home";
  }
  if (p.startsWith("~")) throw new UsageError(`files: ${JSON.stringify(path)}: ~user paths are not supported`);
  if (p.startsWith("/")) {
    const rest = posix.normalize(p).slice(1);
    if (rest === "") throw new UsageError(`files: ${JSON.stringify(path)}: cannot replace the container's root`);
    return `abs/${rest}`;
  }
  const rel = posix.normalize(p);
  if (rel === ".." || rel.startsWith("../")) {
    throw new UsageError(`files: ${JSON.stringify(path)} leaves the working dir, which this image does not name`, {
      hint: "set working_dir: (an absolute path) in the configuration, or give an absolute container path",
    });
  }
  return rel === "." ? "rel" : `rel/${rel}`;
}

export interface FilesArchive {
  /** base64 of the tar.gz; "" when there are no files */
  base64: string;
  bytes: number;
  files: number;
}

export function buildFilesArchive(items: ResolvedFiles[], workingDir: string | undefined): FilesArchive {
  const entries = new Map<string, TarEntry>();
  let files = 0;
  for (const item of items) {
    const root = archiveRoot(item.path, workingDir);
    for (const e of item.entries) {
      const path = e.rel ? `${root}/${e.rel}` : root;
      const base = { path, mode: e.mode };
      entries.set(
        path,
        e.kind === "file"
          ? { ...base, kind: "file", data: e.data }
          : e.kind === "dir"
            ? { ...base, kind: "dir" }
            : { ...base, kind: "symlink", target: e.target },
      );
      if (e.kind === "file") files++;
    }
  }
  if (entries.size === 0) return { base64: "", bytes: 0, files: 0 };
  const gz = tarGz([...entries.values()]);
  if (gz.length > FILES_LIMIT_BYTES) {
    throw new UsageError(
      `files: the archive is ${(gz.length / 1024 / 1024).toFixed(2)} MiB compressed, over the ${FILES_LIMIT_BYTES / 1024 / 1024} MiB limit (as dstackai's)`,
      { hint: "list fewer files, or add the large ones to .dstackignore; bake big data into the image or fetch it at start" },
    );
  }
  return { base64: Buffer.from(gz).toString("base64"), bytes: gz.length, files };
}
