/** Hash a directory tree (paths, types, modes, contents, link targets) to prove "unchanged"; search one for a secret. */
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { join } from "node:path";

export function treeListing(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    const p = join(root, rel);
    const st = lstatSync(p);
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isSymbolicLink()) out.push(`L ${rel} -> ${readlinkSync(p)}`);
    else if (st.isDirectory()) {
      out.push(`D ${rel} ${mode}`);
      for (const e of readdirSync(p).sort()) walk(rel ? `${rel}/${e}` : e);
    } else {
      const h = new Bun.CryptoHasher("sha256").update(readFileSync(p)).digest("hex");
      out.push(`F ${rel} ${mode} ${h}`);
    }
  };
  if (existsSync(root)) walk("");
  return out;
}

export function treeHash(root: string): string {
  return new Bun.CryptoHasher("sha256").update(treeListing(root).join("\n")).digest("hex");
}

/** Every regular file under dir whose contents hold needle (symlinks followed, vanished files skipped). */
export function grepTree(dir: string, needle: string): string[] {
  const hits: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && readFileSync(p).includes(needle)) hits.push(p);
    }
  };
  walk(dir);
  return hits;
}
