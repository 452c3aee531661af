/**
 * Issue 14, items 5, 6, 7 and 10 (output scripts can trust), against a simulated install with the
 * compiled dstack: a big `ps -a --json` read late from a pipe arrives whole; `run -q` prints the
 * VM id alone; names a user cannot see are refused; a missing compose or env file exits 3.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DIST } from "../../helpers/run.ts";
import { type SimInstall, simInstall } from "../../helpers/sim-install.ts";

let s: SimInstall;
beforeAll(async () => {
  s = await simInstall("dstack-script-output");
}, 60_000);
afterAll(async () => {
  await s.destroy();
}, 60_000);

describe("item 6: run -q", () => {
  test("prints the VM id alone, as `docker run -d` does", async () => {
    const r = await s.dstack(["run", "busybox", "-n", "quiet", "-q"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
    const ps = JSON.parse((await s.dstack(["ps", "-a", "--json"])).stdout) as { id: string; name: string }[];
    expect(ps.find((v) => v.name === "quiet")?.id).toBe(r.stdout.trim());
  }, 60_000);
});

describe("item 7: names a user cannot see", () => {
  test.each([" ", "   ", " web", "web ", ".", ".."])(
    "-n %p is refused (exit 2) and nothing is created",
    async (name) => {
      const r = await s.dstack(["run", "busybox", "-n", name, "-d"]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`invalid --name ${JSON.stringify(name)}`);
      const ps = JSON.parse((await s.dstack(["ps", "-a", "--json"])).stdout) as { name: string }[];
      expect(ps.some((v) => v.name === name)).toBe(false);
    },
    30_000,
  );
  test("names with inner spaces and dots stay fine", async () => {
    expect((await s.dstack(["run", "busybox", "-n", "my web.v2", "-d", "-q"])).code).toBe(0);
  }, 30_000);
});

describe("item 10: exit codes of the README's table", () => {
  test("a missing compose file or env file is 3 (not found); an unreadable one is 2", async () => {
    const dir = mkdtempSync(join(tmpdir(), "inputs-"));
    const c = await s.dstack(["deploy", "-c", join(dir, "nope.yaml"), "-n", "x"]);
    expect(c.code).toBe(3);
    expect(c.stderr).toContain(`-c ${join(dir, "nope.yaml")}: no such file`);
    const e = await s.dstack(["run", "busybox", "-n", "y", "--env-file", join(dir, "nope.env")]);
    expect(e.code).toBe(3);
    expect(e.stderr).toContain("--env-file");
    const u = await s.dstack(["upgrade", "quiet", "-c", join(dir, "nope.yaml")]);
    expect(u.code).toBe(3);
    expect((await s.dstack(["deploy", "-c", dir, "-n", "x"])).code).toBe(2); // a directory
    writeFileSync(join(dir, "ok.yaml"), "services:\n  a:\n    image: busybox\n");
    expect((await s.dstack(["deploy", "-c", join(dir, "ok.yaml"), "-n", "composed", "-d", "-q"])).code).toBe(0);
  }, 60_000);
});

describe("item 5: output is never cut", () => {
  test("`ps -a --json` of ~90 VMs, read 0.3 s late from a pipe, arrives whole, 10 times out of 10", async () => {
    // 90 VMs straight through the VMM (stopped, with the compose of the first): the listing is what matters
    const first = JSON.parse((await s.dstack(["inspect", "quiet"])).stdout) as { configuration: Record<string, unknown> };
    await Promise.all(
      Array.from({ length: 90 }, (_, i) => s.vmm("CreateVm", { ...first.configuration, name: `many${i}`, ports: [], stopped: true })),
    );
    const sh = `'${join(DIST, "dstack")}' --prefix '${s.prefix}' ps -a --json | (sleep 0.3; cat)`;
    // ten independent tries, each its own pipe and late reader, at once
    const tries = await Promise.all(
      Array.from({ length: 10 }, async () => {
        const p = Bun.spawn(["sh", "-c", sh], { stdout: "pipe", stderr: "pipe" });
        const out = await new Response(p.stdout).text();
        return { code: await p.exited, out };
      }),
    );
    for (const { code, out } of tries) {
      expect(code).toBe(0);
      expect(out.length).toBeGreaterThan(65_536);
      expect((JSON.parse(out) as unknown[]).length).toBeGreaterThanOrEqual(90);
    }
  }, 120_000);
});
