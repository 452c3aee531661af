/**
 * The per-request file identity (an inotify watch read first, statx through bun:ffi, node:fs fallback):
 * unchanged → same; a rename, an in-place rewrite, a touch, a
 * removal and a re-creation are each seen by the very next probe.
 */
import { describe, expect, test } from "bun:test";
import { linkSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileIdentity } from "../../src/auth/file-identity.ts";

const modes: [string, { ffi?: boolean; inotify?: boolean }][] = [
  ["inotify, then statx via bun:ffi", {}],
  ["statx via bun:ffi alone", { inotify: false }],
  ["node:fs fallback", { ffi: false }],
];
for (const [label, opts] of modes) {
  describe(`FileIdentity (${label})`, () => {
    test("every kind of change is seen by the next probe; no change is reported as same", () => {
      const dir = mkdtempSync(join(tmpdir(), "file-identity-"));
      const path = join(dir, "allow.json");
      const id = new FileIdentity(path, opts);
      const p0 = id.probe();
      expect(p0.same).toBe(false);
      expect("error" in p0 && p0.error.code).toBe("ENOENT");
      expect(id.probe().same).toBe(false); // still missing: never "same" without a file

      writeFileSync(path, "v1");
      const p1 = id.probe();
      expect(p1.same).toBe(false);
      expect("key" in p1).toBe(true);
      expect(id.probe()).toEqual({ same: true });
      expect(id.probe()).toEqual({ same: true });

      // a new version by rename (new inode, same size)
      writeFileSync(join(dir, "tmp"), "v2");
      renameSync(join(dir, "tmp"), path);
      const p2 = id.probe();
      expect(p2.same).toBe(false);
      expect(id.probe().same).toBe(true);

      // rewritten in place (same inode), then only touched (same inode and size)
      writeFileSync(path, "v3 longer");
      expect(id.probe().same).toBe(false);
      utimesSync(path, new Date(2001, 1, 1), new Date(2001, 1, 1));
      expect(id.probe().same).toBe(false);
      expect(id.probe().same).toBe(true);

      // removed, then created again
      rmSync(path);
      const gone = id.probe();
      expect("error" in gone && gone.error.code).toBe("ENOENT");
      writeFileSync(path, "v4");
      expect(id.probe().same).toBe(false);
      expect(id.probe().same).toBe(true);
      rmSync(dir, { recursive: true, force: true });
    });

    test("after a hot loop and full GCs, a rename is still seen by the next probe (the statx buffer is passed on each call, never a kept pointer)", () => {
      const dir = mkdtempSync(join(tmpdir(), "file-identity-gc-"));
      const path = join(dir, "allow.json");
      writeFileSync(path, "v0");
      const id = new FileIdentity(path, opts);
      id.probe();
      for (let round = 1; round <= 20; round++) {
        for (let i = 0; i < 20_000; i++) id.probe();
        for (let i = 0; i < 2_000; i++) new Uint32Array(64).fill(i); // small typed arrays for the GC to move around
        Bun.gc(true);
        writeFileSync(`${path}.new`, `v${round}-${"x".repeat(round)}`);
        renameSync(`${path}.new`, path);
        expect(id.probe().same).toBe(false);
        expect(id.probe().same).toBe(true);
      }
      rmSync(dir, { recursive: true, force: true });
    });

    test("changes no directory event shows: a write through a hard link elsewhere, a symlink's target replaced, the directory replaced", () => {
      const root = mkdtempSync(join(tmpdir(), "file-identity-"));
      const dir = join(root, "etc");
      const other = join(root, "elsewhere");
      mkdirSync(dir);
      mkdirSync(other);
      const path = join(dir, "allow.json");
      writeFileSync(path, "v1");
      linkSync(path, join(other, "alias.json"));
      const id = new FileIdentity(path, opts);
      expect(id.probe().same).toBe(false);
      expect(id.probe().same).toBe(true);
      writeFileSync(join(other, "alias.json"), "v2 via the other link");
      expect(id.probe().same).toBe(false);
      expect(id.probe().same).toBe(true);

      // the path a symlink to a file in another directory, which is replaced by rename there
      const link = join(dir, "linked.json");
      writeFileSync(join(other, "target.json"), "t1");
      symlinkSync(join(other, "target.json"), link);
      const viaLink = new FileIdentity(link, opts);
      expect(viaLink.probe().same).toBe(false);
      expect(viaLink.probe().same).toBe(true);
      writeFileSync(join(other, "tmp"), "t2");
      renameSync(join(other, "tmp"), join(other, "target.json"));
      expect(viaLink.probe().same).toBe(false);
      expect(viaLink.probe().same).toBe(true);

      // the directory moved away and another put in its place
      renameSync(dir, join(root, "old-etc"));
      mkdirSync(dir);
      writeFileSync(path, "v3");
      expect(id.probe().same).toBe(false);
      expect(id.probe().same).toBe(true);
      writeFileSync(join(dir, "tmp"), "v4!");
      renameSync(join(dir, "tmp"), path);
      expect(id.probe().same).toBe(false); // and the new directory is watched
      rmSync(root, { recursive: true, force: true });
    });
  });
}
