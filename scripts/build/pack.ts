/**
 * Deterministic tarballs: names sorted, every entry owned by 0:0 with the commit's time and
 * fixed modes, hard links kept (one binary's size unpacked), gzip without a name or time, xz
 * in its multi-threaded block format with a fixed block size (the same bytes whatever the
 * number of cores).
 */
import { readFileSync } from "node:fs";
import { $ } from "bun";
import type { Compression } from "./targets.ts";

export async function packTar(dir: string, names: string[], out: string, c: Compression, mtime: number): Promise<void> {
  const opts = ["--sort=name", "--format=ustar", "--owner=0", "--group=0", "--numeric-owner", "--mode=0755", `--mtime=@${mtime}`];
  if (c === "gz") await $`tar -C ${dir} ${opts} -cf - ${names} | gzip -9 -n > ${out}`.quiet();
  else await $`tar -C ${dir} ${opts} -cf - ${names} | xz --threads=2 --block-size=25165824 -6 > ${out}`.quiet();
}

export const sha256File = (path: string): string => new Bun.CryptoHasher("sha256").update(readFileSync(path)).digest("hex");
