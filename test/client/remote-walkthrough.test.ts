/**
 * docs/remote.md's "A deploy from a laptop, end to end", run as written against a simulated
 * install behind a private OpenSSH sshd (test/helpers/sshd.ts): a context for the host, then
 * ps, run -e, logs -f (the compiled binary, followed until rm), allowlist ls, upgrade --restart,
 * revoke → restart denied, rm — and the laptop holds nothing of the host's afterwards.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";
import { DIST } from "../helpers/run.ts";
import { type SimInstall, simInstall } from "../helpers/sim-install.ts";
import { type Sshd, startSshd } from "../helpers/sshd.ts";

let sshd: Sshd;
let inst: SimInstall;
let url = "";
const env = () => ({
  HOME: sshd.home,
  XDG_CONFIG_HOME: "",
  SSH_AUTH_SOCK: "",
  DSTACK_HOST: "",
  DSTACK_CONTEXT: "",
  DSTACK_TOKEN: "",
  NO_COLOR: "1",
  API_KEY: "s3cret-walkthrough",
});
const dstack = (args: string[]) => runCli("dstack", args, { env: env() });

beforeAll(async () => {
  [sshd, inst] = await Promise.all([startSshd(), simInstall("remote-walk")]);
  url = `ssh://${sshd.user}@127.0.0.1:${sshd.port}?prefix=${inst.prefix}`;
}, 90_000);

afterAll(async () => {
  await inst?.destroy();
  await sshd?.stop();
});

test("a deploy from a laptop to a host, through a context", async () => {
  expect((await dstack(["context", "create", "dstack-1", "--host", url, "--description", "rack 3"])).code).toBe(0);
  expect((await dstack(["context", "use", "dstack-1"])).code).toBe(0);

  const ps = await dstack(["ps", "-a"]);
  expect({ code: ps.code, stderr: ps.stderr }).toEqual({ code: 0, stderr: "" });
  expect(ps.stdout.split("\n")[0]).toBe(`context: dstack-1 (${url})`);
  expect(ps.stdout).toContain("dstack-kms (system)");

  const port = String(18000 + Math.floor(Math.random() * 1500));
  const run = await dstack(["run", "nginx:1.27", "-n", "web", "-p", `${port}:80`, "-e", "API_KEY", "--json"]);
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
  const r = JSON.parse(run.stdout);
  expect(r).toMatchObject({ name: "web", status: "running", registered: "added", encryptedEnv: ["API_KEY"] });
  expect(run.stdout).not.toContain("s3cret-walkthrough");
  expect(inst.allowlist().apps[r.appId]?.composeHashes).toEqual([r.composeHash]);

  const follow = Bun.spawn([join(DIST, "dstack"), "logs", "web", "-f"], {
    env: { ...process.env, ...env() },
    stdout: "pipe",
    stderr: "pipe",
  });
  try {
    const ls = await dstack(["allowlist", "ls"]);
    expect(ls.stdout.split("\n")[0]).toBe(`${inst.allowlistPath} on ${url}`);
    expect(ls.stdout).toMatch(new RegExp(`${r.appId}\\s+${r.composeHash}\\s+web`));

    const up = await dstack(["upgrade", "web", "nginx:1.28", "--restart", "--json"]);
    expect({ code: up.code, stderr: up.stderr }).toEqual({ code: 0, stderr: "" });
    const u = JSON.parse(up.stdout);
    expect(u).toMatchObject({ status: "upgraded and restarted", previousHash: "withdrawn", oldComposeHash: r.composeHash });
    expect(inst.allowlist().apps[r.appId]?.composeHashes).toEqual([u.newComposeHash]);

    const rv = await dstack(["allowlist", "revoke", "web"]);
    expect(rv.code).toBe(0);
    expect(inst.allowlist().apps[r.appId]).toBeUndefined();
    const restart = await dstack(["restart", "web"]);
    expect(restart.code).toBe(1);
    expect(restart.stderr).toContain("not registered");

    expect((await dstack(["rm", "-f", "web"])).code).toBe(0);
    const ended = await Promise.race([follow.exited, Bun.sleep(10_000).then(() => -1)]);
    const said = await new Response(follow.stderr).text();
    expect({ ended, said }).toEqual({ ended: 3, said: expect.stringContaining("was removed: nothing more to follow") });
    expect(await new Response(follow.stdout).text()).toContain("decrypted env variables");
  } finally {
    follow.kill();
  }

  expect((await dstack(["context", "use", "default"])).code).toBe(0);
  // what the laptop holds afterwards: its ssh files and the contexts, no token, no state of the host's
  expect(readdirSync(sshd.home).sort()).toEqual([".config", ".ssh"]);
  expect(readdirSync(join(sshd.home, ".config", "dstack-tee")).sort()).toEqual(["contexts.json", "contexts.json.lock"]);
}, 120_000);
