/**
 * Endpoint resolution of `dstack` (in-process, with the environment passed in): --host/--token → DSTACK_HOST/DSTACK_TOKEN
 * (and upstream's DSTACK_VMM_URL/DSTACK_VMM_TOKEN) → the install state file of --prefix.
 * The simulator listens on a unix socket with token auth.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";
import { startSim, type TestSim } from "../helpers/sim.ts";

let sim: TestSim;
let empty = "";
const token = `tok-${crypto.randomUUID()}`;
const clean = { DSTACK_HOST: undefined, DSTACK_TOKEN: undefined, DSTACK_VMM_URL: undefined, DSTACK_VMM_TOKEN: undefined };
const ps = (args: string[], env: Record<string, string | undefined> = {}) =>
  runCli("dstack", ["ps", "-a", "--json", "--prefix", empty, ...args], { env: { ...clean, ...env } });

beforeAll(() => {
  sim = startSim({ token });
  empty = mkdtempSync(join(tmpdir(), "dstack-noinstall-"));
});
afterAll(async () => {
  await sim.stop();
  rmSync(sim.dir, { recursive: true, force: true });
  rmSync(empty, { recursive: true, force: true });
});

describe("endpoint resolution", () => {
  test("--host and --token", async () => {
    const r = await ps(["--host", sim.host, "--token", token]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
  });

  test("DSTACK_HOST + DSTACK_TOKEN, and upstream's DSTACK_VMM_URL + DSTACK_VMM_TOKEN", async () => {
    expect((await ps([], { DSTACK_HOST: sim.host, DSTACK_TOKEN: token })).code).toBe(0);
    expect((await ps([], { DSTACK_VMM_URL: sim.host, DSTACK_VMM_TOKEN: token })).code).toBe(0);
  });

  test("flags win over the environment", async () => {
    const r = await ps(["--host", sim.host, "--token", token], { DSTACK_HOST: "unix:/nonexistent/vmm.sock", DSTACK_TOKEN: "wrong" });
    expect(r.code).toBe(0);
  });

  test("a wrong token is refused and the error names the endpoint", async () => {
    const r = await ps(["--host", sim.host, "--token", "wrong"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`the VMM at ${sim.host} refused the request: 401`);
    expect(r.stderr).toContain("--token");
    expect(r.stdout).toBe("");
  });

  test("no flag, no environment, no install state: exit 3 (as dstackup status) with the next command", async () => {
    const r = await ps([]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("no VMM endpoint");
    expect(r.stderr).toContain("dstackup install");
  });

  test("an unreachable endpoint names it", async () => {
    const r = await ps(["--host", join(`unix:${empty}`, "nope.sock")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("nope.sock");
  });
});
