/**
 * `dstack apply` of a dev environment, the client's part: the SSH key it lets in — the one
 * `--ssh-identity` names, else one the client generates once in its own config directory — is
 * sealed into the run (its name only in the plan), never written under ~/.dstack.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AUTHORIZED_KEYS_ENV } from "../../../src/core/dev-env/host-key-line.ts";
import { runCli } from "../../helpers/cli.ts";
import { startSim, type TestSim } from "../../helpers/sim.ts";

let sim: TestSim;
let work = "";
beforeAll(() => {
  sim = startSim({ tcp: true });
  work = mkdtempSync(join(tmpdir(), "apply-dev-"));
  writeFileSync(join(work, "dev.dstack.yml"), "type: dev-environment\nname: dev\nide: vscode\nimage: local/devenv:test\n");
});
afterAll(() => sim.stop());

const plan = async (home: string, extra: string[] = []) => {
  const r = await runCli("dstack", ["apply", "-f", join(work, "dev.dstack.yml"), "--dry-run", "--json", ...extra], {
    env: { HOME: home, XDG_CONFIG_HOME: undefined, DSTACK_HOST: sim.url },
  });
  expect(r.stderr).not.toContain("error");
  return { code: r.code, json: JSON.parse(r.stdout) as { env: string[]; compose_hash: string } };
};

describe("dstack apply of a dev environment: the SSH key it lets in", () => {
  test("none given: one ed25519 key generated once under ~/.config/dstack-tee/ssh, sealed (only its name in the plan)", async () => {
    const home = mkdtempSync(join(tmpdir(), "apply-dev-home-"));
    const first = await plan(home);
    expect(first.code).toBe(0);
    expect(first.json.env).toContain(AUTHORIZED_KEYS_ENV);
    const key = join(home, ".config/dstack-tee/ssh/id_ed25519");
    const pub = readFileSync(`${key}.pub`, "utf8");
    expect(pub).toStartWith("ssh-ed25519 ");
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, ".config/dstack-tee/ssh")).mode & 0o777).toBe(0o700);
    expect(existsSync(join(home, ".dstack"))).toBe(false);
    await plan(home);
    expect(readFileSync(`${key}.pub`, "utf8")).toBe(pub); // once
  });

  test("--ssh-identity KEY: that key, and no key generated; a missing file is exit 3", async () => {
    const home = mkdtempSync(join(tmpdir(), "apply-dev-home-"));
    const mine = join(home, "mine");
    Bun.spawnSync(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", mine]);
    expect((await plan(home, ["--ssh-identity", mine])).code).toBe(0);
    expect(existsSync(join(home, ".config/dstack-tee/ssh/id_ed25519"))).toBe(false);
    const r = await runCli("dstack", ["apply", "-f", join(work, "dev.dstack.yml"), "--dry-run", "--ssh-identity", join(home, "nope")], {
      env: { HOME: home, DSTACK_HOST: sim.url },
    });
    expect(r.stderr).toContain("no such file");
    expect(r.code).toBe(3);
  });
});
