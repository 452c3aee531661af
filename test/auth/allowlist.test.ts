import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { emptyAllowlist, normalizeHex, parseAllowlist, withAppHash, withOsImages, withoutApp } from "../../src/auth/allowlist.ts";
import { registerAppHash, revokeApp, updateAllowlist } from "../../src/auth/allowlist-file.ts";

const A = "ab".repeat(20);
const H1 = "11".repeat(32);
const H2 = "22".repeat(32);

describe("allowlist model", () => {
  test("hex is normalised: trim, 0x/0X stripped, lowercase", () => {
    expect(normalizeHex("  0XABcd ")).toBe("abcd");
  });

  test("defaults fill missing fields; wrong types and unknown keys name the field", () => {
    const l = parseAllowlist(`{"apps":{"${A}":{"composeHashes":["${H1}"]}}}`);
    expect(l.osImages).toEqual([]);
    expect(l.apps[A]).toEqual({ composeHashes: [H1], devices: [], allowAnyDevice: false });
    expect(() => parseAllowlist(`{"apps":{"${A}":{"composeHashes":"x"}}}`)).toThrow(`apps.${A}.composeHashes`);
    expect(() => parseAllowlist(`{"osImages":[1]}`)).toThrow("osImages.0");
    expect(() => parseAllowlist("[")).toThrow("invalid JSON");
    expect(() => parseAllowlist("[]")).toThrow("must be a JSON object");
  });

  test("register is idempotent across hex spellings; revoke one hash or the app", () => {
    let l = emptyAllowlist(["0xAA"]);
    expect(l.osImages).toEqual(["aa"]);
    const r = withAppHash(l, `0x${A.toUpperCase()}`, H1);
    expect(r.added).toBe(true);
    l = r.list;
    expect(withAppHash(l, A, `0x${H1.toUpperCase()}`).added).toBe(false);
    l = withAppHash(l, A, H2).list;
    expect(l.apps[A]!.composeHashes).toEqual([H1, H2]);
    expect(withoutApp(l, A, H1).list.apps[A]!.composeHashes).toEqual([H2]);
    expect(withoutApp(l, A).list.apps[A]).toBeUndefined();
    expect(withoutApp(l, "cd".repeat(20)).removed).toBe(0);
    expect(withOsImages(l, ["BB"]).osImages).toEqual(["bb"]);
  });
});

describe("allowlist file", () => {
  test("register/unregister/revoke under the lock keep other apps and write 2-space JSON", async () => {
    const p = join(mkdtempSync(join(tmpdir(), "al-")), "auth-allowlist.json");
    await expect(registerAppHash(p, A, H1)).rejects.toThrow("does not exist");
    const created = await updateAllowlist(p, (l) => withOsImages(l, ["cc"]));
    expect(created).toMatchObject({ changed: true, created: true });
    expect((await updateAllowlist(p, (l) => withOsImages(l, ["cc"]))).changed).toBe(false);
    expect((await registerAppHash(p, A, H1)).added).toBe(true);
    expect((await registerAppHash(p, A, H1)).added).toBe(false);
    await registerAppHash(p, "cd".repeat(20), H2);
    expect(readFileSync(p, "utf8")).toStartWith('{\n  "osImages": [\n    "cc"\n  ],');
    expect((await revokeApp(p, A, H1)).removed).toBe(1);
    expect((await revokeApp(p, "cd".repeat(20))).removed).toBe(1);
    expect(JSON.parse(readFileSync(p, "utf8")).apps).toEqual({});
  });

  test("an invalid file is never overwritten by an update", async () => {
    const p = join(mkdtempSync(join(tmpdir(), "al-")), "auth-allowlist.json");
    writeFileSync(p, '{"apps": {"x": {"composeHashes": 5}}}');
    await expect(registerAppHash(p, A, H1)).rejects.toThrow("apps.x.composeHashes");
    expect(readFileSync(p, "utf8")).toBe('{"apps": {"x": {"composeHashes": 5}}}');
  });

  test("20 concurrent registrations from separate processes all land", async () => {
    const p = join(mkdtempSync(join(tmpdir(), "al-")), "auth-allowlist.json");
    await updateAllowlist(p, (l) => l);
    const mod = join(import.meta.dir, "../../src/auth/allowlist-file.ts");
    const procs = Array.from({ length: 20 }, (_, i) =>
      Bun.spawn(
        [
          process.execPath,
          "-e",
          `import { registerAppHash } from ${JSON.stringify(mod)}; await registerAppHash(${JSON.stringify(p)}, "${A}", "${i.toString(16).padStart(64, "0")}");`,
        ],
        { stdout: "ignore", stderr: "inherit" },
      ),
    );
    expect(await Promise.all(procs.map((x) => x.exited))).toEqual(Array(20).fill(0));
    expect(JSON.parse(readFileSync(p, "utf8")).apps[A].composeHashes).toHaveLength(20);
  });
});
