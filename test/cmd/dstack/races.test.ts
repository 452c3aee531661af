/**
 * Issue 14, items 1-4: races that lose or grant keys, against a simulated
 * install with the compiled dstack. Many runs of one name at once leave one VM
 * (through the install's endpoint and a "remote" one given by URL and token,
 * where no lock on this host could help); the losers say "already exists" and
 * leave nothing behind; the winner keeps its registration and boots again; a
 * port clash is found before anything is created or registered; auto host
 * ports are never privileged ones.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type SimInstall, simInstall } from "../../helpers/sim-install.ts";

let s: SimInstall;
beforeAll(async () => {
  s = await simInstall("dstack-races");
}, 60_000);
afterAll(async () => {
  await s.destroy();
});

type Vm = { id: string; name: string; status: string; app_id: string; configuration: { ports: { host_port: number }[] } };
const vms = async (): Promise<Vm[]> => JSON.parse((await s.dstack(["ps", "-a", "--json"])).stdout);
/** The VMs named `name` once removals settled. */
async function settled(name: string): Promise<Vm[]> {
  for (let i = 0; i < 100; i++) {
    const all = (await vms()).filter((v) => v.name === name);
    if (all.every((v) => v.status !== "removing")) return all;
    await Bun.sleep(50);
  }
  throw new Error(`VMs named ${name} still being removed`);
}

async function race(name: string, n: number, extra: string[]) {
  const runs = await Promise.all(
    Array.from({ length: n }, (_, i) => (i % 2 ? s.remote : s.dstack)(["run", "busybox", "-n", name, ...extra, "--json"])),
  );
  const won = runs.filter((r) => r.code === 0);
  const lost = runs.filter((r) => r.code !== 0);
  return { runs, won, lost };
}

describe("item 1: one VM per name, however many runs race for it", () => {
  test("50 `run -d -n same` at once (half through the install's endpoint, half by URL and token): one VM, 49 'already exists'", async () => {
    const { won, lost } = await race("same", 50, ["-d"]);
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(49);
    for (const r of lost) {
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('a VM named "same" already exists');
    }
    const left = await settled("same");
    expect(left.map((v) => v.id)).toEqual([JSON.parse(won[0]!.stdout).vmId]);
    expect((await s.dstack(["inspect", "same"])).code).toBe(0);
    expect((await s.dstack(["stop", "same"])).code).toBe(0);
  }, 120_000);

  test("20 waiting runs at once: one boots, the others say 'already exists'; nothing of theirs is left", async () => {
    const { won, lost } = await race("same-wait", 20, []);
    expect(won).toHaveLength(1);
    expect(JSON.parse(won[0]!.stdout).status).toBe("running");
    expect(lost.every((r) => r.stderr.includes('a VM named "same-wait" already exists'))).toBe(true);
    expect(await settled("same-wait")).toHaveLength(1);
  }, 120_000);
});

describe("item 2: a losing run never takes the winner's registration", () => {
  test("same name, image and port (one compose hash) at once, four times: each winner's hash stays, and its next boot gets keys", async () => {
    for (let round = 0; round < 4; round++) {
      const name = `same-hash-${round}`;
      const { won } = await race(name, 8, ["-p", `${18500 + round}:80`]);
      expect(won).toHaveLength(1);
      const w = JSON.parse(won[0]!.stdout);
      expect(s.allowlist().apps[w.appId]?.composeHashes).toEqual([w.composeHash]);
      const again = await s.dstack(["restart", name]);
      expect(again.stderr).not.toContain("Boot denied");
      expect(again.code).toBe(0);
    }
  }, 120_000);
});

describe("item 3: the port-clash pre-check runs before anything is created or registered", () => {
  test("a fixed host port another VM maps is refused by the pre-check (not by CreateVm), leaving no VM and no registration", async () => {
    const a = await s.dstack(["run", "busybox", "-n", "holder", "-p", "18600:80", "-d", "--json"]);
    expect(a.code).toBe(0);
    const before = JSON.stringify(s.allowlist());
    const b = await s.dstack(["run", "busybox", "-n", "clasher", "-p", "18600:81", "-d"]);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain("--port: ");
    expect(b.stderr).toContain("18600");
    expect(b.stderr).toContain("holder");
    expect(b.stderr).not.toContain("refused CreateVm");
    expect((await vms()).some((v) => v.name === "clasher")).toBe(false);
    expect(JSON.stringify(s.allowlist())).toBe(before);
  }, 60_000);
});

describe("item 4: auto host ports", () => {
  test("as root, 100 auto ports are all from 1024 up inside the VMM's range", async () => {
    const specs = Array.from({ length: 100 }, (_, i) => ["-p", String(100 + i)]).flat();
    const r = await s.dstack(["run", "busybox", "-n", "autoports", ...specs, "-d", "--json"]);
    expect(r.code).toBe(0);
    const ports = JSON.parse(r.stdout).ports.map((p: { host_port: number }) => p.host_port);
    expect(ports).toHaveLength(100);
    expect(Math.min(...ports)).toBeGreaterThanOrEqual(1024);
  }, 60_000);
});
