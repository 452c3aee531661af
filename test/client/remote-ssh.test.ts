/**
 * `--host ssh://…` against a simulated install behind a real OpenSSH server on loopback
 * (test/helpers/sshd.ts): the laptop side holds no token and names no port; the host's own
 * dstack (`dstack system dial-stdio`, the compiled binary on the session's PATH) reads the
 * host's install state — whatever DSTACK_HOST, DSTACK_CONTEXT or DSTACK_TOKEN its sessions carry —
 * and the compose hash lands in the host's allowlist.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { signerOfKey } from "../../src/core/keys/env-key-signature.ts";
import { runCli } from "../helpers/cli.ts";
import { type SimInstall, simInstall } from "../helpers/sim-install.ts";
import { type Sshd, startSshd } from "../helpers/sshd.ts";

let sshd: Sshd;
let inst: SimInstall;
let url = "";
const laptop = (args: string[], host = url) =>
  runCli("dstack", ["--host", host, ...args], { env: { HOME: sshd.home, SSH_AUTH_SOCK: "", DSTACK_HOST: "", DSTACK_TOKEN: "" } });

beforeAll(async () => {
  // the host's own DSTACK_HOST / DSTACK_CONTEXT / DSTACK_TOKEN must not steer its dial-stdio away from its install
  const hostEnv = { DSTACK_HOST: "unix:/nonexistent.sock", DSTACK_CONTEXT: "elsewhere", DSTACK_TOKEN: "wrong" };
  [sshd, inst] = await Promise.all([startSshd({ env: hostEnv }), simInstall("remote")]);
  url = `ssh://${sshd.user}@127.0.0.1:${sshd.port}?prefix=${inst.prefix}`;
}, 90_000);

afterAll(async () => {
  await inst?.destroy();
  await sshd?.stop();
});

describe("dstack --host ssh://user@host?prefix=…", () => {
  test("run with no token and no ?target: the host's image and port policy, the hash in the host's allowlist; ps; rm withdraws it", async () => {
    const r = await laptop(["run", "nginx:1.27", "-n", "web", "-p", "18190:80", "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ name: "web", status: "running", registered: "added" });
    expect(inst.allowlist().apps[out.appId]?.composeHashes).toEqual([out.composeHash]);
    const ps = await laptop(["ps", "--json"]);
    expect(ps.code).toBe(0);
    expect(JSON.parse(ps.stdout).map((v: { name: string }) => v.name)).toContain("web");
    // the host's port policy (its vmm.toml), checked before the VMM is asked
    const far = await laptop(["run", "nginx:1.27", "-n", "far", "-p", "30000:80"]);
    expect(far.code).not.toBe(0);
    expect(far.stderr).toContain("30000");
    const rm = await laptop(["rm", "-f", "web"]);
    expect(rm.stdout).toContain("withdrew app");
    expect(inst.allowlist().apps[out.appId]).toBeUndefined();
    // nothing of the host's is left on the laptop: its HOME holds only the ssh files
    expect(readdirSync(sshd.home)).toEqual([".ssh"]);
    expect(readdirSync(join(sshd.home, ".ssh")).sort()).toEqual(["id_ed25519", "id_ed25519.pub", "known_hosts"]);
  }, 60_000);

  test("~/.ssh/config: an alias's HostName, User, Port, IdentityFile; and a ProxyJump hop", async () => {
    const cfg = join(sshd.home, ".ssh", "config");
    writeFileSync(
      cfg,
      [
        "Host box box-jumped",
        "  HostName 127.0.0.1",
        `  Port ${sshd.port}`,
        `  User ${sshd.user}`,
        `  IdentityFile ~/.ssh/id_ed25519`,
        "Host box-jumped",
        `  ProxyJump ${sshd.user}@127.0.0.1:${sshd.port}`,
        "",
      ].join("\n"),
    );
    try {
      for (const alias of ["box", "box-jumped"]) {
        const r = await laptop(["ps", "-a", "--json"], `ssh://${alias}?prefix=${inst.prefix}`);
        expect(r.stderr).toBe("");
        expect(JSON.parse(r.stdout).map((v: { name: string }) => v.name)).toContain("dstack-kms");
      }
    } finally {
      require("node:fs").rmSync(cfg);
    }
  }, 30_000);

  test("a changed host key is refused", async () => {
    const kh = join(sshd.home, ".ssh", "known_hosts");
    const good = require("node:fs").readFileSync(kh, "utf8");
    writeFileSync(kh, `[127.0.0.1]:${sshd.port} ssh-ed25519 ${Buffer.alloc(51, 1).toString("base64")}\n`);
    try {
      const r = await laptop(["ps"]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/does not match .*man-in-the-middle, refusing/);
    } finally {
      writeFileSync(kh, good);
    }
  });

  test("run -e through ssh://: the secret sealed to a key checked against the host's recorded KMS signer, no --kms-signer", async () => {
    const r = await laptop(["run", "alpine", "-n", "sealed", "-e", "API_KEY=s3cret", "--detach", "--json"]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(JSON.parse(r.stdout).encryptedEnv).toEqual(["API_KEY"]);
    // a signer pinned on the laptop wins over the host's record
    const other = signerOfKey(new Uint8Array(32).fill(5));
    const pinned = await laptop(["run", "alpine", "-n", "sealed2", "-e", "API_KEY=s3cret", "--detach", "--kms-signer", other]);
    expect(pinned.code).toBe(4);
    expect(pinned.stderr).toContain(`not by the trusted KMS signer ${other}`);
    expect((await laptop(["rm", "-f", "sealed"])).code).toBe(0);
    // so does one pinned in the context (context create --kms-signer), kept on the laptop
    const env = { HOME: sshd.home, SSH_AUTH_SOCK: "", DSTACK_HOST: "", DSTACK_CONTEXT: "", XDG_CONFIG_HOME: "" };
    const ctx = (args: string[]) => runCli("dstack", args, { env });
    expect((await ctx(["context", "create", "pinned", "--host", url, "--kms-signer", other.slice(2).toUpperCase()])).code).toBe(0);
    try {
      expect(JSON.parse((await ctx(["context", "inspect", "pinned"])).stdout)[0].kmsSigner).toBe(other);
      const viaCtx = await ctx(["--context", "pinned", "run", "alpine", "-n", "sealed3", "-e", "API_KEY=s3cret", "--detach"]);
      expect(viaCtx.code).toBe(4);
      expect(viaCtx.stderr).toContain(`not by the trusted KMS signer ${other}`);
    } finally {
      require("node:fs").rmSync(join(sshd.home, ".config"), { recursive: true, force: true });
    }
  }, 60_000);

  test("allowlist ls / revoke / prune work on the host's allowlist; --allowlist is refused", async () => {
    const a = JSON.parse((await laptop(["run", "nginx:1.27", "-n", "al", "--json"])).stdout);
    const ls = await laptop(["allowlist", "ls"]);
    expect(ls.code).toBe(0);
    expect(ls.stdout).toContain(`${inst.allowlistPath} on ${url}`);
    expect(ls.stdout).toMatch(new RegExp(`${a.appId}\\s+${a.composeHash}\\s+al`));
    const lsj = JSON.parse((await laptop(["allowlist", "ls", "--json"])).stdout);
    expect(lsj).toMatchObject({ path: inst.allowlistPath, host: url, vms: { [a.appId]: ["al"] } });
    const local = await laptop(["allowlist", "ls", "--allowlist", join(sshd.home, "x.json")]);
    expect(local.code).toBe(2);
    expect(local.stderr).toContain("--allowlist names a file on this machine");
    // revoke by VM name: gone from the host's file; the VM's next boot is denied keys
    const rv = await laptop(["allowlist", "revoke", "al"]);
    expect({ code: rv.code, stdout: rv.stdout }).toEqual({
      code: 0,
      stdout: `revoked app ${a.appId} (VM al) in ${inst.allowlistPath} on ${url}; running instances keep their keys until they restart\n`,
    });
    expect(inst.allowlist().apps[a.appId]).toBeUndefined();
    const again = await laptop(["allowlist", "revoke", a.appId]);
    expect(again.code).toBe(3);
    expect(again.stderr).toContain(`is not in ${inst.allowlistPath} on ${url}`);
    const restart = await laptop(["restart", "al"]);
    expect(restart.code).not.toBe(0);
    expect(restart.stdout + restart.stderr).toMatch(/denied|not allowed|boot failed/i);
    // prune: a registration no VM uses, put straight into the host's file, is withdrawn there
    await inst.dstack(["run", "busybox", "-n", "gone", "--json"]);
    const before = Object.keys(inst.allowlist().apps);
    await inst.vmm("RemoveVm", { id: JSON.parse((await inst.dstack(["inspect", "gone"])).stdout).id });
    const dry = JSON.parse((await laptop(["allowlist", "prune", "--dry-run", "--json"])).stdout);
    expect(dry).toMatchObject({ path: inst.allowlistPath, host: url, dryRun: true });
    expect(dry.withdrawn.length).toBeGreaterThan(0);
    expect(Object.keys(inst.allowlist().apps)).toEqual(before);
    const pr = await laptop(["allowlist", "prune", "-y"]);
    expect(pr.code).toBe(0);
    expect(pr.stdout).toContain(`withdrew from ${inst.allowlistPath} on ${url}`);
    expect(Object.keys(inst.allowlist().apps).length).toBeLessThan(before.length);
    expect((await laptop(["rm", "-f", "al"])).code).toBe(0);
  }, 90_000);

  test("a context for the host: context create --host ssh://…, use; then ps names it and needs no --host", async () => {
    const env = { HOME: sshd.home, SSH_AUTH_SOCK: "", DSTACK_HOST: "", DSTACK_TOKEN: "", DSTACK_CONTEXT: "", XDG_CONFIG_HOME: "" };
    const dstack = (args: string[]) => runCli("dstack", args, { env });
    expect((await dstack(["context", "create", "box", "--host", url, "--description", "sim behind sshd"])).code).toBe(0);
    expect((await dstack(["context", "use", "box"])).code).toBe(0);
    try {
      const ps = await dstack(["ps", "-a"]);
      expect({ code: ps.code, stderr: ps.stderr }).toEqual({ code: 0, stderr: "" });
      expect(ps.stdout.split("\n")[0]).toBe(`context: box (${url})`);
      expect(ps.stdout).toMatch(/^dstack-kms \(system\)\s/m);
      // the store is the toolchain's own (~/.config/dstack-tee), never dstackai's ~/.dstack
      expect(readdirSync(sshd.home).sort()).toEqual([".config", ".ssh"]);
      expect(readdirSync(join(sshd.home, ".config", "dstack-tee")).sort()).toEqual(["contexts.json", "contexts.json.lock"]);
    } finally {
      await dstack(["context", "rm", "-f", "box"]);
      require("node:fs").rmSync(join(sshd.home, ".config"), { recursive: true });
    }
  }, 30_000);

  test("deploy -c, inspect, stop, start through ssh:// as on the host", async () => {
    const compose = join(sshd.home, "compose.yaml");
    writeFileSync(compose, "services:\n  web:\n    image: nginx:1.27\n");
    try {
      const d = await laptop(["deploy", "-c", compose, "-n", "composed", "--json"]);
      expect({ code: d.code, stderr: d.stderr }).toEqual({ code: 0, stderr: "" });
      const out = JSON.parse(d.stdout);
      expect(inst.allowlist().apps[out.appId]?.composeHashes).toEqual([out.composeHash]);
      const info = JSON.parse((await laptop(["inspect", "composed"])).stdout);
      expect(info).toMatchObject({ name: "composed", status: "running", app_id: out.appId });
      const stop = await laptop(["stop", "composed"]);
      expect(stop.stdout).toBe(`composed (${out.vmId.slice(0, 8)}): stopped\n`);
      expect(JSON.parse((await laptop(["inspect", "composed"])).stdout).status).toBe("stopped");
      const start = await laptop(["start", "composed"]);
      expect(start.code).toBe(0);
      expect(JSON.parse((await laptop(["inspect", "composed"])).stdout).status).toBe("running");
      expect((await laptop(["rm", "-f", "composed"])).code).toBe(0);
    } finally {
      require("node:fs").rmSync(compose, { force: true });
    }
  }, 60_000);

  test("apply -y -d and delete of a .dstack.yml task through ssh://: registered in and withdrawn from the host's allowlist", async () => {
    const conf = join(sshd.home, "hello.dstack.yml");
    writeFileSync(conf, "type: task\nname: hello\nimage: alpine:3.20\ncommands:\n  - echo hi\n");
    try {
      const a = await laptop(["apply", "-f", conf, "-y", "-d"]);
      expect(a.code).toBe(0);
      expect(a.stderr).toContain("Run hello submitted, detaching...\n");
      const vm = JSON.parse((await laptop(["inspect", "hello"])).stdout);
      const hash = new Bun.CryptoHasher("sha256").update(vm.configuration.compose_file).digest("hex");
      expect(inst.allowlist().apps[vm.app_id]?.composeHashes).toEqual([hash]);
      const d = await laptop(["delete", "-f", conf, "-y"]);
      expect(d.code).toBe(0);
      expect(inst.allowlist().apps[vm.app_id]).toBeUndefined();
    } finally {
      require("node:fs").rmSync(conf, { force: true });
    }
  }, 60_000);

  test("a prefix with no install on the host: the host's dstack says so, with its next step", async () => {
    const r = await laptop(["ps"], `ssh://${sshd.user}@127.0.0.1:${sshd.port}?prefix=/nonexistent-prefix`);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("the host's dstack could not serve: dstack: no VMM endpoint");
    expect(r.stderr).toContain("run `dstackup install --prefix /nonexistent-prefix`");
  });
});
