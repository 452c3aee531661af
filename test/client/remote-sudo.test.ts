/**
 * The `sudo -n` path of an ssh:// host: the install is root's, the SSH login is not. A
 * throw-away user with passwordless sudo for exactly `dstack system dial-stdio --prefix P` logs
 * in to the private sshd (test/helpers/sshd.ts); its dstack runs under sudo and serves the
 * root-owned install; without the sudoers rule the client says why and what to do. Needs root,
 * useradd and sudo (.ci/run installs sudo); the user and the rule are removed afterwards.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { runCli } from "../helpers/cli.ts";
import { DIST } from "../helpers/run.ts";
import { type SimInstall, simInstall } from "../helpers/sim-install.ts";
import { type Sshd, startSshd } from "../helpers/sshd.ts";

const which = (p: string) => Bun.spawnSync(["sh", "-c", `command -v ${p}`]).exitCode === 0;
const can = process.getuid?.() === 0 && which("sudo") && which("useradd");
const user = `dsk-ssh-${process.pid}`;
const rule = `/etc/sudoers.d/${user}`;

let sshd: Sshd;
let inst: SimInstall;
let url = "";
const laptop = (args: string[]) =>
  runCli("dstack", ["--host", url, ...args], { env: { HOME: sshd.home, SSH_AUTH_SOCK: "", DSTACK_HOST: "", DSTACK_CONTEXT: "" } });

describe.skipIf(!can)("ssh:// to a non-root login of a root install: sudo -n", () => {
  beforeAll(async () => {
    // a password of "*" (none), not useradd's locked "!": sshd without PAM refuses a locked account even to a key
    const add = Bun.spawnSync(["useradd", "--password", "*", "--no-create-home", "--home-dir", "/tmp", "--shell", "/bin/sh", user]);
    if (add.exitCode !== 0) throw new Error(`useradd: ${add.stderr.toString()}`);
    [sshd, inst] = await Promise.all([startSshd(), simInstall("remote-sudo")]);
    url = `ssh://${user}@127.0.0.1:${sshd.port}?prefix=${inst.prefix}`;
    // the install's directory is root's alone (0700): the login cannot see its bin/, so its PATH's dstack is the one sudo runs
    writeFileSync(rule, `${user} ALL=(root) NOPASSWD: ${DIST}/dstack system dial-stdio --prefix ${inst.prefix}\n`, { mode: 0o440 });
  }, 90_000);

  afterAll(async () => {
    rmSync(rule, { force: true });
    await inst?.destroy();
    await sshd?.stop();
    Bun.spawnSync(["userdel", user]);
  });

  test("the host's dstack runs under sudo: ps, and run registers in the root-owned allowlist, rm withdraws", async () => {
    const ps = await laptop(["ps", "-a", "--json"]);
    expect({ code: ps.code, stderr: ps.stderr }).toEqual({ code: 0, stderr: "" });
    expect(JSON.parse(ps.stdout).map((v: { name: string }) => v.name)).toContain("dstack-kms");
    const r = await laptop(["run", "nginx:1.27", "-n", "sudoed", "--detach", "--json"]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    const out = JSON.parse(r.stdout);
    expect(inst.allowlist().apps[out.appId]?.composeHashes).toEqual([out.composeHash]);
    expect((await laptop(["rm", "-f", "sudoed"])).code).toBe(0);
    expect(inst.allowlist().apps[out.appId]).toBeUndefined();
  }, 60_000);

  test("without the sudoers rule: sudo's refusal, and what to do", async () => {
    rmSync(rule);
    const r = await laptop(["ps"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("the host's dstack could not serve: sudo: a password is required");
    expect(r.stderr).toContain(`give ${user} passwordless sudo for`);
  }, 30_000);
});
