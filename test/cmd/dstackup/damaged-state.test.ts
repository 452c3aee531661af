/**
 * A state file that is there but damaged (issue 13 item 3): every command says so (exit 4,
 * naming the file) instead of reading it as "not installed"; destroy still stops the daemons;
 * install refuses to write over it unless told to.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBin } from "../../helpers/run.ts";
import { simInstallFlags } from "../../helpers/sim-install.ts";
import { treeHash } from "../../helpers/tree.ts";

const prefix = mkdtempSync(join(tmpdir(), "dstackup-damaged-"));
const flags = simInstallFlags(prefix, { timeout: 30 }); // --runtime none: no app runs here, no engine probe
const base = flags[flags.indexOf("--dashboard-port") + 1];
const stateFile = join(prefix, "var/lib/dstack/dstackup-state.json");

afterAll(async () => {
  await runBin("dstackup", ["destroy", "--purge", "-y", "--prefix", prefix]);
});

function pidsOf(state: { vmm_unit: string; auth_unit: string }): number[] {
  return [state.vmm_unit, state.auth_unit].map((u) => Number(readFileSync(join(prefix, "run/dstack", `${u}.pid`), "utf8")));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, "utf8").split(" ")[2]!.startsWith("Z");
  } catch {
    return false;
  }
}

describe("damaged files in an install", () => {
  test("status, dstack ps and a re-install say so (exit 4); destroy stops the daemons, purges nothing, exits 4", async () => {
    expect((await runBin("dstackup", ["install", ...flags])).code).toBe(0);
    const state = JSON.parse(readFileSync(stateFile, "utf8"));
    const pids = pidsOf(state);
    for (const garbage of ['{"prefix": 5, garbage', "{}"]) {
      writeFileSync(stateFile, garbage);
      const st = await runBin("dstackup", ["status", "--prefix", prefix]);
      expect(st.code).toBe(4);
      expect(st.stderr).toContain(`the install state ${stateFile} is damaged`);
      const ps = await runBin("dstack", ["ps", "--prefix", prefix]);
      expect(ps.code).toBe(4);
      expect(ps.stderr).toContain(`the install state ${stateFile} is damaged`);
    }
    const before = treeHash(join(prefix, "etc"));
    const again = await runBin("dstackup", ["install", ...flags]);
    expect(again.code).toBe(4);
    expect(again.stderr).toMatch(/\[fail\] state: the install state .* is damaged/);
    expect(again.stderr).toContain("--ignore-preflight-errors state");
    expect(treeHash(join(prefix, "etc"))).toBe(before);
    expect(readFileSync(stateFile, "utf8")).toBe("{}");

    const d = await runBin("dstackup", ["destroy", "--purge", "-y", "--prefix", prefix]);
    expect(d.code).toBe(4);
    expect(d.stderr).toContain(`stopped and removed ${state.vmm_unit} (detached)`);
    expect(d.stderr).toContain(`stopped and removed ${state.auth_unit} (detached)`);
    expect(d.stderr).toContain("purge: not done");
    await Bun.sleep(100);
    for (const pid of pids) expect(alive(pid)).toBe(false);
    expect(existsSync(join(prefix, "etc/dstack/vmm.toml"))).toBe(true); // nothing purged on a guess

    // told to, install writes over it
    const over = await runBin("dstackup", ["install", ...flags, "--ignore-preflight-errors", "state"]);
    expect(over.code).toBe(0);
    expect(JSON.parse(readFileSync(stateFile, "utf8")).client_url).toBe(`http://127.0.0.1:${base}`);
  }, 120_000);

  test("garbage in vmm.toml: status reports it with file and line (exit 1); dstack run warns its port checks are off", async () => {
    // the install above ended with a good state (--ignore-preflight-errors state)
    expect((await runBin("dstackup", ["status", "--prefix", prefix])).code).toBe(0);
    const vmmToml = join(prefix, "etc/dstack/vmm.toml");
    writeFileSync(vmmToml, `${readFileSync(vmmToml, "utf8")}\n[cvm\ngarbage = = 1\n`);
    const st = await runBin("dstackup", ["status", "--prefix", prefix]);
    expect(st.code).toBe(1);
    expect(st.stdout).toMatch(new RegExp(`FAIL\\s+vmm\\.toml\\s+${vmmToml.replaceAll(".", "\\.")}: line \\d+, column \\d+: `));
    expect(st.stdout).toContain("degraded");
    const run = await runBin("dstack", ["run", "nginx", "-p", "8080:80", "--dry-run", "--prefix", prefix]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`warning: the VMM's port policy could not be read (${vmmToml}: line`);
  }, 60_000);

  test("after a destroy, status says nothing answers (not Bun's guess, not 'try dstackup status'); a never-installed prefix claims nothing", async () => {
    expect((await runBin("dstackup", ["destroy", "--prefix", prefix])).code).toBe(0);
    const st = await runBin("dstackup", ["status", "--prefix", prefix]);
    expect(st.code).toBe(1);
    expect(st.stdout).toMatch(/FAIL\s+vmm\s+http:\/\/127\.0\.0\.1:\d+: nothing answers \(connection refused\)/);
    expect(st.stdout).toMatch(/FAIL\s+auth-webhook\s+127\.0\.0\.1:\d+: nothing answers \(connection refused\)/);
    expect(st.stdout).not.toContain("Unable to connect");
    expect(st.stdout).not.toContain("dstackup status");
    const fresh = mkdtempSync(join(tmpdir(), "dstackup-never-"));
    const d = await runBin("dstackup", ["destroy", "--prefix", fresh]);
    expect(d.code).toBe(0);
    expect(d.stderr).toContain("no install state");
    expect(d.stderr).not.toContain("configs kept");
    const ps = await runBin("dstack", ["ps", "--prefix", fresh]);
    expect(ps.code).toBe(3); // as `dstackup status` says for the same missing install
    expect(ps.stderr).toContain(`dstackup install --prefix ${fresh}`);
  }, 60_000);
});
