/**
 * Issue 14, items 15-18: the allowlist's lifecycle, against a simulated
 * install, dstack run in-process. `rm` of an app's last VM withdraws its
 * registration (--keep-registration keeps it); `upgrade --restart` withdraws
 * the previous hash once the new version booted (--keep-previous keeps it; a
 * failed upgrade keeps it); `allowlist prune` withdraws what no VM uses
 * (--dry-run, -y); `upgrade` of a revoked app refuses unless --register.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type SimInstall, simInstall } from "../../helpers/sim-install.ts";

let s: SimInstall;
beforeAll(async () => {
  s = await simInstall("dstack-lifecycle", { inProcess: true });
}, 60_000);
afterAll(async () => {
  await s.destroy();
});

type Run = { vmId: string; appId: string; composeHash: string };
async function run(name: string, image = "busybox:1"): Promise<Run> {
  const r = await s.dstack(["run", image, "-n", name, "--json"]);
  if (r.code !== 0) throw new Error(`run ${name}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}
const hashesOf = (appId: string) => s.allowlist().apps[appId]?.composeHashes;

describe("item 15: rm of an app's last VM", () => {
  test("withdraws its registration, and says so; --keep-registration keeps it", async () => {
    const a = await run("gone");
    expect(hashesOf(a.appId)).toEqual([a.composeHash]);
    const rm = await s.dstack(["rm", "-f", "gone"]);
    expect(rm.code).toBe(0);
    expect(rm.stdout).toContain(`removed; its app had no other VM: withdrew app ${a.appId}`);
    expect(hashesOf(a.appId)).toBeUndefined();
    const b = await run("kept");
    const keep = await s.dstack(["rm", "-f", "kept", "--keep-registration"]);
    expect(keep.code).toBe(0);
    expect(keep.stdout).not.toContain("withdrew");
    expect(hashesOf(b.appId)).toEqual([b.composeHash]);
  }, 60_000);
});

describe("item 16: upgrade and the previous hash", () => {
  test("withdrawn once the new version booted; --keep-previous keeps it; without --restart it stays until the new one boots", async () => {
    const a = await run("up");
    const up = await s.dstack(["upgrade", "up", "busybox:2", "--restart", "--json"]);
    expect(up.code).toBe(0);
    const u = JSON.parse(up.stdout);
    expect(u).toMatchObject({ status: "upgraded and restarted", previousHash: "withdrawn", oldComposeHash: a.composeHash });
    expect(hashesOf(a.appId)).toEqual([u.newComposeHash]);
    // the old version is no longer allowed: the host cannot boot it and get keys
    const staged = JSON.parse((await s.dstack(["upgrade", "up", "busybox:3", "--restart", "--keep-previous", "--json"])).stdout);
    expect(staged.previousHash).toBe("kept (--keep-previous)");
    expect(hashesOf(a.appId)).toEqual([u.newComposeHash, staged.newComposeHash]);
    // allowlist ls names the VM beside the hash it boots only, not beside every hash of its app
    const ls = JSON.parse((await s.dstack(["allowlist", "ls", "--json"])).stdout);
    expect(ls.vmsByHash[a.appId]).toEqual({ [u.newComposeHash]: [], [staged.newComposeHash]: ["up"] });
    expect(ls.vms[a.appId]).toEqual(["up"]);
    const table = (await s.dstack(["allowlist", "ls"])).stdout;
    expect(table).toMatch(new RegExp(`${a.appId}\\s+${u.newComposeHash}\\s+-`));
    expect(table).toMatch(new RegExp(`${a.appId}\\s+${staged.newComposeHash}\\s+up`));
    const later = await s.dstack(["upgrade", "up", "busybox:4"]);
    expect(later.code).toBe(0);
    expect(later.stdout).toContain("previous hash kept until the new version has booted");
    expect(hashesOf(a.appId)).toHaveLength(3);
  }, 60_000);
});

describe("item 17: allowlist prune", () => {
  test("--dry-run lists what no VM uses and changes nothing; without -y and a terminal it refuses; -y withdraws; stopped VMs keep theirs", async () => {
    const live = await run("live");
    const parked = await run("parked");
    expect((await s.dstack(["stop", "parked"])).code).toBe(0);
    const orphan = await run("orphan");
    expect((await s.dstack(["rm", "-f", "orphan", "--keep-registration"])).code).toBe(0);
    const before = readFileSync(s.allowlistPath, "utf8");
    const dry = await s.dstack(["allowlist", "prune", "--dry-run", "--json"]);
    expect(dry.code).toBe(0);
    const plan = JSON.parse(dry.stdout).withdrawn as { appId: string; hashes: string[]; wholeApp: boolean }[];
    expect(plan.map((w) => w.appId)).toContain(orphan.appId);
    expect(plan.find((w) => w.appId === orphan.appId)).toMatchObject({ hashes: [orphan.composeHash], wholeApp: true });
    expect(plan.map((w) => w.appId)).not.toContain(live.appId);
    expect(plan.map((w) => w.appId)).not.toContain(parked.appId);
    expect(readFileSync(s.allowlistPath, "utf8")).toBe(before);
    const ask = await s.dstack(["allowlist", "prune"]);
    expect(ask.code).toBe(2);
    expect(ask.stderr).toContain("pass -y");
    expect(readFileSync(s.allowlistPath, "utf8")).toBe(before);
    const done = await s.dstack(["allowlist", "prune", "-y"]);
    expect(done.code).toBe(0);
    expect(done.stdout).toContain("withdrew from");
    expect(done.stdout).toContain(orphan.appId);
    expect(hashesOf(orphan.appId)).toBeUndefined();
    expect(hashesOf(live.appId)).toEqual([live.composeHash]);
    expect(hashesOf(parked.appId)).toEqual([parked.composeHash]);
    // every app left in the file is one a VM boots, each hash one a VM boots
    const vms = JSON.parse((await s.dstack(["ps", "-a", "--json"])).stdout) as { app_id: string }[];
    expect(Object.keys(s.allowlist().apps).every((id) => vms.some((v) => v.app_id === id))).toBe(true);
    const again = await s.dstack(["allowlist", "prune", "-y"]);
    expect(again.stdout).toContain("nothing to prune");
    expect((await s.dstack(["start", "parked"])).code).toBe(0); // its registration was kept: it boots
  }, 60_000);
});

describe("item 18: upgrade of a revoked app", () => {
  test("refuses (exit 4, nothing changed) unless --register", async () => {
    const a = await run("revoked");
    expect((await s.dstack(["allowlist", "revoke", "revoked"])).code).toBe(0);
    const before = readFileSync(s.allowlistPath, "utf8");
    const up = await s.dstack(["upgrade", "revoked", "busybox:2"]);
    expect(up.code).toBe(4);
    expect(up.stderr).toContain(`app ${a.appId} is not in`);
    expect(up.stderr).toContain("--register");
    expect(readFileSync(s.allowlistPath, "utf8")).toBe(before);
    const info = JSON.parse((await s.dstack(["inspect", "revoked"])).stdout);
    expect(info.configuration.compose_file).toContain("busybox:1");
    const again = await s.dstack(["upgrade", "revoked", "busybox:2", "--register", "--json"]);
    expect(again.code).toBe(0);
    expect(hashesOf(a.appId)).toEqual([JSON.parse(again.stdout).newComposeHash]);
  }, 60_000);
});

describe("item 16: a failed upgrade keeps the previous hash", () => {
  test("the new version's boot fails (the webhook is down): the previous hash stays", async () => {
    const a = await run("fails");
    const st = JSON.parse(readFileSync(join(s.prefix, "var/lib/dstack/dstackup-state.json"), "utf8"));
    const { pid } = JSON.parse(readFileSync(join(s.prefix, "run/dstack", `${st.auth_unit}.pid`), "utf8")) as { pid: number };
    process.kill(pid, "SIGKILL"); // the last test: the webhook stays down
    const up = await s.dstack(["upgrade", "fails", "busybox:2", "--restart", "--json"]);
    expect(up.code).toBe(1);
    const u = JSON.parse(up.stdout);
    expect(u.previousHash).toBe("kept (the new version did not boot)");
    expect(hashesOf(a.appId)).toEqual([a.composeHash, u.newComposeHash]);
  }, 60_000);
});
