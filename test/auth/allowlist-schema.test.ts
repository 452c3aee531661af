/**
 * Issue 14, item 12: the allowlist schema is strict. `"apps": [...]` and
 * unknown keys are errors naming the field (the webhook says "allowlist
 * unavailable"); `__proto__`, `constructor` and `prototype` app keys are kept
 * as ordinary keys, never dropped and never reaching Object.prototype; keys
 * that normalise to one app id are an error in `check`, fail closed at the
 * webhook, and revoke removes every spelling.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllowlist, serializeAllowlist, withAppHash, withoutApp } from "../../src/auth/allowlist.ts";
import { registerAppHash, revokeApp } from "../../src/auth/allowlist-file.ts";
import { decideApp } from "../../src/auth/decide.ts";
import { makeWebhook } from "../../src/auth/server.ts";
import { runBin } from "../helpers/run.ts";

const A = "aa".repeat(20);
const H = "11".repeat(32);
const boot = (appId: string, composeHash = H) => ({
  teeVariant: "dstack-tdx",
  mrAggregated: "",
  osImageHash: "",
  mrSystem: "",
  appId,
  composeHash,
  instanceId: "",
  deviceId: "",
  keyProviderInfo: "",
  tcbStatus: "UpToDate",
  advisoryIds: [],
});

function file(content: string) {
  const dir = mkdtempSync(join(tmpdir(), "al-schema-"));
  const path = join(dir, "auth-allowlist.json");
  writeFileSync(path, content);
  return path;
}

async function webhookReason(path: string, appId = A): Promise<string> {
  const fetch = makeWebhook(path);
  const r = await fetch(
    new Request("http://x/bootAuth/app", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(boot(appId)),
    }),
  );
  return ((await r.json()) as { reason: string }).reason;
}

describe("strict schema", () => {
  test('"apps" as an array is invalid: check exits 4, the webhook says allowlist unavailable', async () => {
    const text = JSON.stringify({ apps: [{ composeHashes: [H] }] });
    expect(() => parseAllowlist(text)).toThrow("apps: must be an object of app id → rule (got an array)");
    const path = file(text);
    expect(await webhookReason(path)).toStartWith("allowlist unavailable: ");
    const chk = await runBin("dstack-auth", ["check", "--config", path, "--json"]);
    expect(chk.code).toBe(4);
    expect(JSON.parse(chk.stdout)).toMatchObject({ valid: false, field: "apps" });
  });

  test("unknown keys are errors naming them (a misspelt osImages must not lift the pin); auth-simple's keys load and are kept", () => {
    expect(() => parseAllowlist(JSON.stringify({ osImage: ["ab"] }))).toThrow('osImage: unknown key "osImage"');
    expect(() => parseAllowlist(JSON.stringify({ apps: { [A]: { composeHash: [H] } } }))).toThrow(`apps.${A}.composeHash: unknown key`);
    expect(() => parseAllowlist(JSON.stringify({ kms: { mrAgregated: [] } }))).toThrow("kms.mrAgregated: unknown key");
    const simple = { kmsContractAddr: `0x${"0".repeat(40)}`, chainId: 0, appImplementation: `0x${"0".repeat(40)}` };
    const l = parseAllowlist(JSON.stringify({ ...simple, apps: {} }));
    expect(JSON.parse(serializeAllowlist(l))).toMatchObject(simple);
    expect(() => parseAllowlist(JSON.stringify({ chainId: "1" }))).toThrow("chainId");
  });

  test("__proto__, constructor and prototype app keys are kept, listed and decided like any key; Object.prototype untouched", async () => {
    const apps = `{"__proto__":{"composeHashes":["${H}"]},"constructor":{"composeHashes":["${H}"]},"prototype":{"composeHashes":["${H}"]},"${A}":{"composeHashes":["${H}"]}}`;
    const l = parseAllowlist(`{"apps":${apps}}`);
    expect(Object.keys(l.apps)).toEqual(["__proto__", "constructor", "prototype", A]);
    for (const k of ["__proto__", "constructor", "prototype", A]) expect(decideApp(l, boot(k)).isAllowed).toBe(true);
    expect(decideApp(l, boot("toString")).reason).toBe("app not registered");
    // they survive a rewrite and edits
    const added = withAppHash(l, "__proto__", "22".repeat(32)).list;
    const written = JSON.parse(serializeAllowlist(added)) as { apps: Record<string, { composeHashes: string[] }> };
    expect(Object.getOwnPropertyDescriptor(written.apps, "__proto__")?.value.composeHashes).toEqual([H, "22".repeat(32)]);
    expect(Object.keys(withoutApp(added, "constructor").list.apps)).toEqual(["__proto__", "prototype", A]);
    expect(({} as Record<string, unknown>).composeHashes).toBeUndefined();
    const path = file(`{"apps":${apps}}`);
    const chk = await runBin("dstack-auth", ["check", "--config", path]);
    expect(chk.code).toBe(0);
    expect(chk.stdout).toContain("apps: 4");
    expect(chk.stdout).toContain("  __proto__");
    expect(await webhookReason(path, "constructor")).toBe("ok");
    // registering a new app next to them writes all of them back
    await registerAppHash(path, "bb".repeat(20), H);
    expect(Object.keys(JSON.parse(readFileSync(path, "utf8")).apps)).toEqual(["__proto__", "constructor", "prototype", A, "bb".repeat(20)]);
  });
});

describe("keys that normalise to one app id", () => {
  const colliding = JSON.stringify({
    apps: {
      [`0x${A.toUpperCase()}`]: { composeHashes: [H] },
      [A]: { composeHashes: ["22".repeat(32)] },
      ["bb".repeat(20)]: { composeHashes: [H] },
    },
  });

  test("an error in check (exit 4, both keys named), and the webhook denies every app", async () => {
    expect(() => parseAllowlist(colliding)).toThrow(`are the same app id ${A}`);
    const path = file(colliding);
    const chk = await runBin("dstack-auth", ["check", "--config", path]);
    expect(chk.code).toBe(4);
    expect(chk.stderr).toContain(`"0x${A.toUpperCase()}" and "${A}"`);
    expect(await webhookReason(path)).toContain("allowlist unavailable");
    expect(await webhookReason(path, "bb".repeat(20))).toContain("allowlist unavailable");
  });

  test("registering refuses the file; revoke removes every spelling and so repairs it", async () => {
    const path = file(colliding);
    await expect(registerAppHash(path, "cc".repeat(20), H)).rejects.toThrow("same app id");
    expect((await revokeApp(path, `0X${A}`)).removed).toBe(2);
    const after = parseAllowlist(readFileSync(path, "utf8"));
    expect(Object.keys(after.apps)).toEqual(["bb".repeat(20)]);
    expect(await webhookReason(path)).toBe("app not registered");
  });

  test("`dstack allowlist revoke APP` (the binary) removes every spelling in one call", async () => {
    const path = file(colliding);
    const r = await runBin("dstack", ["allowlist", "revoke", A, "--allowlist", path, "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).removed).toBe(2);
    expect(Object.keys(parseAllowlist(readFileSync(path, "utf8")).apps)).toEqual(["bb".repeat(20)]);
  });

  test("revoke --hash takes the hash from every spelling", async () => {
    const path = file(JSON.stringify({ apps: { [`0x${A}`]: { composeHashes: [H, "33".repeat(32)] }, [A]: { composeHashes: [H] } } }));
    expect((await revokeApp(path, A, H)).removed).toBe(2);
    expect(JSON.parse(readFileSync(path, "utf8")).apps).toEqual({
      [`0x${A}`]: { composeHashes: ["33".repeat(32)], devices: [], allowAnyDevice: false },
    });
  });
});
