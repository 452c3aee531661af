/**
 * `dstack attach` of a dev environment that really runs (compiled binaries, a simulated host with
 * the container runtime, `local/devenv:test`): `dstack apply -f dev.dstack.yml -y -d`, then `dstack
 * attach dev` in the background with HOME in a temp dir; OpenSSH's own `ssh dev echo ok` with the
 * config it wrote succeeds; the run's port is forwarded; the IDE link carries the working dir;
 * the same alias with another host key pinned is refused by ssh; an attach with another user's key
 * is refused; Ctrl-C detaches; an apply without -d attaches the same way; through an ssh:// VMM the
 * alias jumps through its SSH host; stop removes the alias.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEVENV_IMAGE, ensureDevEnvImages } from "../../helpers/devenv-image.ts";
import { testEngine } from "../../helpers/engine.ts";
import { DIST, runBin } from "../../helpers/run.ts";
import { type SimInstall, simInstall } from "../../helpers/sim-install.ts";
import { startSshd } from "../../helpers/sshd.ts";

const engine = await testEngine();
/** the run's port: the VMM maps the same host port, so not one another test on this machine is likely to hold */
const APP_PORT = 15000 + Math.floor(Math.random() * 4000);

let inst: SimInstall | undefined;
let work = "";
let home = "";
const attaches: Bun.Subprocess[] = [];
const path = (name: string) => join(work, name);
const env = () => ({ HOME: home, XDG_CONFIG_HOME: "" });
const dstack = (args: string[], o: { home?: string } = {}) =>
  runBin("dstack", ["--prefix", inst!.prefix, ...args], {
    cwd: work,
    timeoutMs: 120_000,
    env: { HOME: o.home ?? home, XDG_CONFIG_HOME: "" },
  });

function keygen(name: string, type = "ed25519"): string {
  const r = Bun.spawnSync(["ssh-keygen", "-q", "-t", type, "-N", "", "-C", name, "-f", path(name)]);
  if (r.exitCode !== 0) throw new Error(`ssh-keygen: ${r.stderr.toString()}`);
  return path(name);
}

/** `dstack VERB …` (attach, or an attached apply) in the background; resolves once it says it is attached (or has exited). */
async function inBackground(
  args: string[],
  o: { endpoint?: string[]; home?: string } = {},
): Promise<{ p: Bun.Subprocess<"ignore", "pipe", "pipe">; err: () => string }> {
  const p = Bun.spawn([join(DIST, "dstack"), ...(o.endpoint ?? ["--prefix", inst!.prefix]), ...args], {
    cwd: work,
    env: { ...process.env, ...env(), ...(o.home ? { HOME: o.home } : {}), NO_COLOR: "1" },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  attaches.push(p);
  let err = "";
  void (async () => {
    const dec = new TextDecoder();
    for await (const chunk of p.stderr) err += dec.decode(chunk, { stream: true });
  })();
  for (let i = 0; i < 1200 && !err.includes("Press Ctrl+C") && p.exitCode === null; i++) await Bun.sleep(100);
  return { p, err: () => err };
}

const ssh = (...args: string[]) => sshWith(home, ...args);
const sshWith = (laptopHome: string, ...args: string[]) => {
  const r = Bun.spawnSync(["ssh", "-F", join(laptopHome, ".ssh", "config"), "-o", "BatchMode=yes", ...args], {
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
};

describe.skipIf(!engine)("dstack attach of a dev environment that runs", () => {
  beforeAll(async () => {
    await ensureDevEnvImages(engine!);
    inst = await simInstall("dstack-attach-rt", { runtime: "docker" });
    work = mkdtempSync(join(tmpdir(), "dstack-attach-rt-work-"));
    home = mkdtempSync(join(tmpdir(), "dstack-attach-rt-home-"));
    keygen("user");
    keygen("other");
  }, 120_000);

  // destroying an install with running containers takes longer than bun's 5 s default on a loaded machine
  afterAll(async () => {
    for (const p of attaches) if (p.exitCode === null) p.kill("SIGKILL");
    await inst?.destroy();
  }, 60_000);

  test("apply -y -d, attach in the background: ssh dev works with the written config, the port is forwarded, the IDE link has the working dir", async () => {
    writeFileSync(
      path("dev.dstack.yml"),
      [
        "type: dev-environment",
        "name: dev",
        "ide: vscode",
        `image: ${DEVENV_IMAGE}`,
        "working_dir: /workspace",
        `ports: [${APP_PORT}]`,
        "init:",
        `  - mkdir -p /tmp/www && echo served-from-the-cvm > /tmp/www/index.html && busybox httpd -p 127.0.0.1:${APP_PORT} -h /tmp/www`,
        "",
      ].join("\n"),
    );
    const r = await dstack(["apply", "-f", "dev.dstack.yml", "-y", "-d", "--ssh-identity", path("user")]);
    expect(r.stderr).toContain("Run dev submitted");
    expect(r.code).toBe(0);

    const a = await inBackground(["attach", "dev", "--ssh-identity", path("user")]);
    expect(a.err()).toContain("Verified dev's SSH host key against its simulated quote");
    expect(a.err()).toMatch(/, OS image [0-9a-f]{64}\n/); // the install's image pin, read from its image directory
    expect(a.err()).toContain(
      `Added \`Include ${join(home, ".config/dstack-tee/ssh/config")}\` at the top of ${join(home, ".ssh/config")}`,
    );
    expect(a.err()).toContain("To connect to the run via SSH, use `ssh dev`.");
    expect(a.err()).toContain("  vscode://vscode-remote/ssh-remote+dev/workspace\n");

    const ok = ssh("dev", "echo", "ok");
    expect(ok.stderr).toBe("");
    expect(ok.stdout).toBe("ok\n");
    expect(ok.code).toBe(0);

    const fwd = new RegExp(`localhost:(\\d+) -> ${APP_PORT}`).exec(a.err());
    expect(fwd).not.toBeNull();
    // init (which starts the server) runs once sshd is up, so it may still be starting when attach has proved ssh
    let served = "";
    for (let i = 0; i < 50 && served === ""; i++) {
      served = await fetch(`http://127.0.0.1:${fwd![1]}/`).then(
        (r) => r.text(),
        () => Bun.sleep(200).then(() => ""),
      );
    }
    expect(served).toBe("served-from-the-cvm\n");

    a.p.kill("SIGINT");
    expect(await a.p.exited).toBe(0);
    expect(a.err()).toContain("Detached.");
    expect(ssh("dev", "true").code).toBe(0); // the alias stays while the run goes on
  }, 180_000);

  test("another host key pinned for the alias: ssh refuses the CVM's", () => {
    const known = join(home, ".config/dstack-tee/ssh/known_hosts");
    const attested = readFileSync(known, "utf8");
    const other = readFileSync(`${keygen("impostor", "ecdsa")}.pub`, "utf8")
      .split(" ")
      .slice(0, 2)
      .join(" ");
    writeFileSync(known, `dev ${other}\n`);
    try {
      const r = ssh("dev", "echo", "should-not-run");
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/);
      expect(r.code).toBe(255);
    } finally {
      writeFileSync(known, attested);
    }
    expect(ssh("dev", "true").code).toBe(0);
  });

  test("another user's key is not let in: attach with it is refused (the CVM's attested keys are not that key), saying why", async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), "dstack-attach-rt-other-"));
    const r = await dstack(["attach", "dev", "--ssh-identity", path("other")], { home: elsewhere });
    expect(r.stderr).toContain("lets in other SSH keys than yours");
    expect(r.stderr).toContain("--ssh-identity the run was applied with");
    expect(r.code).toBe(4);
    expect(existsSync(join(elsewhere, ".config", "dstack-tee", "ssh", "config"))).toBe(false);
  }, 60_000);

  test("apply of a dev environment without -d attaches — here an update in place (same app id, new compose): the link, ssh works; Ctrl-C detaches", async () => {
    const dev2 = `type: dev-environment\nname: dev2\nide: cursor\nimage: ${DEVENV_IMAGE}\n`;
    writeFileSync(path("dev2.dstack.yml"), dev2);
    expect((await dstack(["apply", "-f", "dev2.dstack.yml", "-y", "-d", "--ssh-identity", path("user")])).code).toBe(0);
    writeFileSync(path("dev2.dstack.yml"), `${dev2}init:\n  - echo updated\n`);
    const a = await inBackground(["apply", "-f", "dev2.dstack.yml", "-y", "--ssh-identity", path("user")]);
    expect(a.err()).toContain("Detected changes that can be updated in-place");
    expect(a.err()).toContain("Verified dev2's SSH host key against its simulated quote");
    expect(a.err()).not.toContain("which app:"); // apply checked the VMM's record against its own plan
    expect(a.err()).toMatch(/ {2}cursor:\/\/vscode-remote\/ssh-remote\+dev2\/\S+\n/);
    expect(ssh("dev2", "echo", "ok").stdout).toBe("ok\n");
    a.p.kill("SIGINT");
    expect(await a.p.exited).toBe(0);
    expect(a.err()).toContain("Detached.");
    expect((await dstack(["stop", "dev2", "-y"])).code).toBe(0);
  }, 180_000);

  test("a VMM reached over ssh://: the alias jumps through that SSH host (ProxyJump) and ssh dev works", async () => {
    const sshd = await startSshd();
    try {
      // OpenSSH reads ~ from the password database, not $HOME: the laptop's own config names its files for the jump host
      const hostBlock = `Host 127.0.0.1\n    UserKnownHostsFile ${join(sshd.home, ".ssh", "known_hosts")}\n    IdentityFile ${join(sshd.home, ".ssh", "id_ed25519")}\n`;
      writeFileSync(join(sshd.home, ".ssh", "config"), hostBlock);
      const endpoint = ["--host", `ssh://${sshd.user}@127.0.0.1:${sshd.port}?prefix=${inst!.prefix}`];
      const a = await inBackground(["attach", "dev", "--ssh-identity", path("user")], { endpoint, home: sshd.home });
      expect(a.err()).toContain("Verified dev's SSH host key");
      expect(readFileSync(join(sshd.home, ".config/dstack-tee/ssh/config"), "utf8")).toContain(
        `    ProxyJump ${sshd.user}@127.0.0.1:${sshd.port}\n`,
      );
      expect(readFileSync(join(sshd.home, ".ssh", "config"), "utf8")).toEndWith(`\n${hostBlock}`);
      const ok = sshWith(sshd.home, "dev", "echo", "ok");
      expect(ok.stderr).toBe("");
      expect(ok.stdout).toBe("ok\n");
      a.p.kill("SIGINT");
      expect(await a.p.exited).toBe(0);
    } finally {
      await sshd.stop();
    }
  }, 120_000);

  test("stop removes the alias", async () => {
    const r = await dstack(["stop", "dev", "-y"]);
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).toContain("its SSH alias dev removed");
    expect(readFileSync(join(home, ".config/dstack-tee/ssh/config"), "utf8")).not.toContain("Host dev");
  }, 60_000);
});
