/**
 * `files:` and `repos:` items (dstackai/dstack: src/dstack/_internal/core/models/files.py,
 * configurations.py). A files item is `local:container` or `local` (then the container path is the
 * same text); `{local_path, path}` is the mapping form. A repos item is a string (`local_path`,
 * `url`, either with `:container_path`) or `{local_path | url, branch, hash, path, if_exists}`; a
 * URL is recognised by `@` in its first segment or `//` after the first colon.
 */
import { GrammarError } from "./grammar-error.ts";

export interface FileMapping {
  localPath: string;
  path: string;
}

export function parseFileMapping(v: unknown): FileMapping {
  if (typeof v === "string") {
    if (v === "") throw new GrammarError("an empty files item");
    const i = v.indexOf(":");
    if (i < 0) return { localPath: v, path: v };
    if (i === 0 || i === v.length - 1) throw new GrammarError(`Invalid files item ${JSON.stringify(v)}: use LOCAL or LOCAL:CONTAINER`);
    return { localPath: v.slice(0, i), path: v.slice(i + 1) };
  }
  if (v !== null && typeof v === "object" && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const extra = Object.keys(o).filter((k) => k !== "local_path" && k !== "path");
    if (extra.length) throw new GrammarError(`unknown key ${extra[0]} (a files item has local_path and path)`);
    if (typeof o.local_path !== "string" || o.local_path === "") throw new GrammarError("local_path: Field required");
    return { localPath: o.local_path, path: typeof o.path === "string" && o.path !== "" ? o.path : o.local_path };
  }
  throw new GrammarError("Input should be LOCAL, LOCAL:CONTAINER or {local_path, path}");
}

export interface RepoSpec {
  url?: string;
  localPath?: string;
  branch?: string;
  hash?: string;
  /** the container path; undefined = the working dir */
  path?: string;
  ifExists: "error" | "skip";
}

/** dstackai's URL test: `@` in the first `:`-segment, or `//` right after the first colon. */
export function looksLikeUrl(s: string): boolean {
  const i = s.indexOf(":");
  if (i < 0) return false;
  return s.slice(0, i).includes("@") || s.startsWith("//", i + 1);
}

function splitRepoString(s: string): RepoSpec {
  if (looksLikeUrl(s)) {
    // url[:container_path]: a container path follows the last `:` when it is absolute or ~.
    const afterScheme = s.startsWith("//", s.indexOf(":") + 1) ? s.indexOf("/", s.indexOf(":") + 3) : s.indexOf(":") + 1;
    const j = s.lastIndexOf(":");
    if (j > afterScheme && /^[/~.]/.test(s.slice(j + 1))) return { url: s.slice(0, j), path: s.slice(j + 1), ifExists: "error" };
    return { url: s, ifExists: "error" };
  }
  const i = s.indexOf(":");
  if (i > 0) return { localPath: s.slice(0, i), path: s.slice(i + 1), ifExists: "error" };
  return { localPath: s, ifExists: "error" };
}

const REPO_KEYS = ["local_path", "url", "branch", "hash", "path", "if_exists"];

export function parseRepo(v: unknown): RepoSpec {
  if (typeof v === "string") {
    if (v === "") throw new GrammarError("an empty repos item");
    return splitRepoString(v);
  }
  if (v !== null && typeof v === "object" && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const extra = Object.keys(o).filter((k) => !REPO_KEYS.includes(k));
    if (extra.length) throw new GrammarError(`unknown key ${extra[0]} (a repo has ${REPO_KEYS.join(", ")})`);
    if ((o.url == null) === (o.local_path == null)) throw new GrammarError("Specify either local_path or url");
    const r: RepoSpec = { ifExists: "error" };
    if (o.url != null) r.url = String(o.url);
    if (o.local_path != null) r.localPath = String(o.local_path);
    if (o.branch != null) r.branch = String(o.branch);
    if (o.hash != null) r.hash = String(o.hash);
    if (o.path != null && o.path !== ".") r.path = String(o.path);
    if (o.if_exists != null) {
      if (o.if_exists !== "error" && o.if_exists !== "skip") throw new GrammarError("if_exists: Input should be 'error' or 'skip'");
      r.ifExists = o.if_exists;
    }
    return r;
  }
  throw new GrammarError("Input should be a path, a git URL or a repo mapping");
}
