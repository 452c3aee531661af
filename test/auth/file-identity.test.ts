/**
 * The per-request file identity (statx through bun:ffi, node:fs fallback):
 * unchanged → same; a rename, an in-place rewrite, a touch, a
 * removal and a re-creation are each seen by the very next probe.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, renameSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileIdentity } from "../../src/auth/file-identity.ts";

for (const ffi of [true, false]) {
  describe(`FileIdentity (${ffi ? "statx via bun:ffi" : "node:fs fallback"})`, () => {
    test("every kind of change is seen by the next probe; no change is reported as same", () => {
      const dir = mkdtempSync(join(tmpdir(), "file-identity-"));
      const path = join(dir, "allow.json");
      const id = new FileIdentity(path, { ffi });
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
  });
}
