/**
 * `dstack context` (docker's contexts): the store under $XDG_CONFIG_HOME/dstack-tee (0600,
 * atomic, never ~/.dstack), create/ls/use/rm/inspect/show with their exit codes, and a context
 * in use — by --context, DSTACK_CONTEXT or `use` — naming the endpoint, shown in ps's head line.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../helpers/cli.ts";
import { startSim, type TestSim } from "../../helpers/sim.ts";

let sim: TestSim;
const home = mkdtempSync(join(tmpdir(), "ctx-home-"));
const cfg = join(home, "cfg");
const store = join(cfg, "dstack-tee", "contexts.json");
const dstack = (args: string[], env: Record<string, string> = {}) =>
  runCli("dstack", args, { env: { HOME: home, XDG_CONFIG_HOME: cfg, DSTACK_HOST: "", DSTACK_CONTEXT: "", DSTACK_TOKEN: "", ...env } });

beforeAll(() => {
  sim = startSim({ tcp: true, token: "t0k" });
});
afterAll(async () => {
  await sim.stop();
});

describe("dstack context", () => {
  test("create / ls / inspect / use / show / rm, in the toolchain's own config dir", async () => {
    const c = await dstack(["context", "create", "sim", "--host", sim.host, "--description", "the test VMM"]);
    expect({ code: c.code, stdout: c.stdout }).toEqual({ code: 0, stdout: "sim\n" });
    expect(c.stderr).toContain(`created context "sim" (${sim.host}) in ${store}`);
    expect((statSync(store).mode & 0o777).toString(8)).toBe("600");
    expect(JSON.parse(readFileSync(store, "utf8"))).toEqual({ contexts: { sim: { host: sim.host, description: "the test VMM" } } });
    expect(existsSync(join(home, ".dstack"))).toBe(false);
    expect((await dstack(["context", "create", "box", "--host", "ssh://admin@box.example?prefix=/opt/d"])).code).toBe(0);

    const dup = await dstack(["context", "create", "sim", "--host", "ssh://other"]);
    expect(dup.code).toBe(4);
    expect(dup.stderr).toContain(`context "sim" already exists (${sim.host})`);
    expect((await dstack(["context", "create", "bad/name", "--host", "ssh://x"])).code).toBe(2);
    expect((await dstack(["context", "create", "default", "--host", "ssh://x"])).code).toBe(2);
    const badPin = await dstack(["context", "create", "x", "--host", "ssh://x", "--kms-signer", "0xnope"]);
    expect(badPin.code).toBe(2);
    expect(badPin.stderr).toContain('--kms-signer "0xnope" is not a secp256k1 public key');
    const badHost = await dstack(["context", "create", "x", "--host", "box.example"]);
    expect(badHost.code).toBe(2);
    expect(badHost.stderr).toContain("expected unix:PATH, http(s)://HOST:PORT or ssh://");

    const ls = await dstack(["context", "ls"]);
    expect(ls.code).toBe(0);
    const lines = ls.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^NAME\s+DESCRIPTION\s+DSTACK ENDPOINT$/);
    expect(lines[1]).toMatch(/^default \*\s+The install on this machine/);
    expect(lines[2]).toMatch(/^box\s+ssh:\/\/admin@box\.example\?prefix=\/opt\/d$/);
    expect(lines[3]).toMatch(new RegExp(`^sim\\s+the test VMM\\s+${sim.host}$`));
    expect((await dstack(["context", "ls", "-q"])).stdout).toBe("default\nbox\nsim\n");

    const use = await dstack(["context", "use", "sim"]);
    expect({ code: use.code, stdout: use.stdout }).toEqual({ code: 0, stdout: "sim\n" });
    expect(JSON.parse(readFileSync(store, "utf8")).current).toBe("sim");
    expect((await dstack(["context", "show"])).stdout).toBe("sim\n");
    expect((await dstack(["context", "show"], { DSTACK_CONTEXT: "box" })).stdout).toBe("box\n");
    expect(JSON.parse((await dstack(["context", "ls", "--json"])).stdout).find((v: { current: boolean }) => v.current).name).toBe("sim");
    expect(JSON.parse((await dstack(["context", "inspect"])).stdout)).toEqual([
      { name: "sim", description: "the test VMM", host: sim.host, kmsSigner: null, current: true },
    ]);
    expect(JSON.parse((await dstack(["context", "inspect", "box", "default"])).stdout).map((v: { name: string }) => v.name)).toEqual([
      "box",
      "default",
    ]);
    expect((await dstack(["context", "inspect", "nope"])).code).toBe(3);
    expect((await dstack(["context", "use", "nope"])).code).toBe(3);
    const over = await dstack(["context", "use", "sim"], { DSTACK_HOST: "unix:/x" });
    expect(over.stderr).toContain("DSTACK_HOST is set and overrides the current context");

    // the current context is not removed without -f; nothing of a failed rm is removed
    const cur = await dstack(["context", "rm", "box", "sim"]);
    expect(cur.code).toBe(4);
    expect(cur.stderr).toContain(`context "sim" is the current one`);
    expect(Object.keys(JSON.parse(readFileSync(store, "utf8")).contexts)).toEqual(["box", "sim"]);
    expect((await dstack(["context", "rm", "nope"])).code).toBe(3);
    expect((await dstack(["context", "rm", "default"])).code).toBe(2);
    const rm = await dstack(["context", "rm", "-f", "sim", "box"]);
    expect({ code: rm.code, stdout: rm.stdout }).toEqual({ code: 0, stdout: "sim\nbox\n" });
    expect(JSON.parse(readFileSync(store, "utf8"))).toEqual({ contexts: {} });
    expect((await dstack(["context", "show"])).stdout).toBe("default\n");
    // atomic writes under the lock: no temp file is left beside the store
    expect(readdirSync(join(cfg, "dstack-tee")).sort()).toEqual(["contexts.json", "contexts.json.lock"]);
  });

  test("a context names the endpoint: --context, DSTACK_CONTEXT, the current one; ps shows it in its head line", async () => {
    expect((await dstack(["context", "create", "s2", "--host", sim.host])).code).toBe(0);
    const head = `context: s2 (${sim.host})`;
    for (const [args, env] of [
      [["ps", "-a", "--context", "s2", "--token", "t0k"], {}],
      [["--context", "s2", "ps", "-a"], { DSTACK_TOKEN: "t0k" }],
      [["ps", "-a"], { DSTACK_CONTEXT: "s2", DSTACK_TOKEN: "t0k" }],
    ] as const) {
      const r = await dstack([...args], env);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
      expect(r.stdout.split("\n").slice(0, 2)).toEqual([head, expect.stringMatching(/^NAME\s+ID\s+APP ID\s+STATUS/)]);
    }
    // --json and -q stay data only
    const j = await dstack(["ps", "--json", "--context", "s2", "--token", "t0k"]);
    expect(JSON.parse(j.stdout)).toBeArray();
    await dstack(["context", "use", "s2"]);
    const r = await dstack(["ps"], { DSTACK_TOKEN: "t0k" });
    expect(r.stdout.split("\n")[0]).toBe(head);
    // --host (or DSTACK_HOST) names the endpoint itself: no context, no head line
    const h = await dstack(["ps", "--host", sim.host, "--token", "t0k"]);
    expect(h.stdout).toMatch(/^NAME\s/);
    expect((await dstack(["ps", "--host", sim.host, "--context", "s2"])).code).toBe(2);
    const missing = await dstack(["ps"], { DSTACK_CONTEXT: "gone" });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain(`context "gone" (DSTACK_CONTEXT) does not exist`);
    writeFileSync(store, "{ not json");
    const damaged = await dstack(["ps"]);
    expect(damaged.code).toBe(1);
    expect(damaged.stderr).toContain(`${store}: not JSON`);
  });
});
