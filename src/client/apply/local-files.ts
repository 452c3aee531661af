/**
 * Reads the local side of `files:` for the measured archive: a relative path is
 * resolved from the configuration file's directory (stdin: the working dir), `~`
 * from the home dir; a directory is walked with its `.gitignore` and
 * `.dstackignore` honoured (patterns at the directory's root) and `.git` left out.
 */
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import type { LocalEntry, ResolvedFiles } from "../../core/dstack-run/files/files-archive.ts";
import { type IgnoreRules, ignored, parseIgnore } from "../../core/dstack-run/files/ignore.ts";
import type { FileMapping, RepoSpec } from "../../core/dstack-yml/forms/files.ts";
import { UsageError } from "../../core/errors.ts";

function rulesOf(dir: string): IgnoreRules {
  let text = "";
  for (const f of [".gitignore", ".dstackignore"]) {
    try {
      text += `${readFileSync(join(dir, f), "utf8")}\n`;
    } catch {
      /* none */
    }
  }
  return parseIgnore(text);
}

function walk(root: string, rel: string, rules: IgnoreRules, out: LocalEntry[]): void {
  const abs = rel ? join(root, rel) : root;
  const st = lstatSync(abs);
  const mode = st.mode & 0o7777;
  if (st.isSymbolicLink()) out.push({ rel, mode, kind: "symlink", target: readlinkSync(abs) });
  else if (st.isFile()) out.push({ rel, mode, kind: "file", data: readFileSync(abs) });
  else if (st.isDirectory()) {
    out.push({ rel, mode, kind: "dir" });
    for (const name of readdirSync(abs).sort()) {
      const child = rel ? `${rel}/${name}` : name;
      const childSt = lstatSync(join(root, child));
      if (!ignored(rules, child, childSt.isDirectory())) walk(root, child, rules, out);
    }
  }
}

export function readLocalFiles(mappings: FileMapping[], baseDir: string): ResolvedFiles[] {
  return mappings.map((m) => {
    const local =
      m.localPath === "~" || m.localPath.startsWith("~/") ? join(homedir(), m.localPath.slice(1)) : resolve(baseDir, m.localPath);
    const entries: LocalEntry[] = [];
    try {
      const st = lstatSync(local);
      walk(local, "", st.isDirectory() ? rulesOf(local) : [], entries);
    } catch (e) {
      throw new UsageError(
        `files: ${m.localPath}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file or directory" : (e as Error).message}`,
      );
    }
    return { item: `${m.localPath}:${m.path}`, path: m.path, entries };
  });
}

/** A local repo (`repos: [.]`) is uploaded like files: its tree (with .gitignore) to the repo path, the working dir by default. */
export function localRepos(repos: RepoSpec[]): FileMapping[] {
  return repos.flatMap((r) => (r.localPath !== undefined ? [{ localPath: r.localPath, path: r.path ?? "." }] : []));
}
