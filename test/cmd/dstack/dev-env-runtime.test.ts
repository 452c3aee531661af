/**
 * A dev environment that really runs (compiled binaries, a simulated host with the container
 * runtime, `local/devenv:test`: this machine's OpenSSH in a busybox rootfs): `dstack apply -y -d`
 * with a key the test made; the CVM's serial console announces a host key whose quote commits to
 * it and names the VM's app id and compose hash; OpenSSH's own ssh, with only that key in its
 * known_hosts and StrictHostKeyChecking yes, logs in with the user's key on the VM's mapped port
 * and runs a command, which sees `init`'s file and the run's env; another user's key is refused,
 * and so is another host key; `dstack attach` verifies the key and `ssh dev echo ok` works through
 * the alias it writes; an update in place announces the same key; a stop is quick; an image
 * without sshd gets it from its package manager (a stand-in apt-get); a short
 * inactivity_duration ends an idle run (`ps`: terminated).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { composeHashOf } from "../../../src/core/compose/app-compose.ts";
import { parseAppCompose } from "../../../src/core/compose/app-compose-parse.ts";
import {
  authorizedKeysSha256,
  type HostKeyAnnouncement,
  hostKeyReportData,
  parseHostKeyLine,
} from "../../../src/core/dev-env/host-key-line.ts";
import { checkQuote } from "../../../src/core/tdx/verify.ts";
import { APT_GET_ARGS, DEVENV_BARE_IMAGE, DEVENV_IMAGE, ensureDevEnvImages } from "../../helpers/devenv-image.ts";
import { testEngine } from "../../helpers/engine.ts";
import { DIST, runBin } from "../../helpers/run.ts";
import { type SimInstall, simInstall } from "../../helpers/sim-install.ts";

const engine = await testEngine();

let inst: SimInstall | undefined;
let work = "";
const key = (name: string) => join(work, name);
/** HOME and XDG_CONFIG_HOME in the work dir: the client's own files (its SSH config, a generated key) stay there. */
const dstack = (args: string[]) =>
  runBin("dstack", ["--prefix", inst!.prefix, ...args], {
    cwd: work,
    timeoutMs: 120_000,
    env: { HOME: work, XDG_CONFIG_HOME: join(work, ".config") },
  });
/** apply with the test's user key (dstack seals its .pub as the run's authorized keys) */
const apply = (file: string) => dstack(["apply", "-f", file, "-y", "-d", "--ssh-identity", key("user")]);

interface PsVm {
  name: string;
  app_id: string;
  configuration: { compose_file: string; ports: { host_port: number; vm_port: number }[] };
  run?: { status: string; status_message: string; termination_reason?: string | null };
}
const ps = async () => JSON.parse((await dstack(["ps", "-a", "--json"])).stdout) as PsVm[];

function keygen(name: string): void {
  const r = Bun.spawnSync(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", key(name)]);
  if (r.exitCode !== 0) throw new Error(`ssh-keygen: ${r.stderr.toString()}`);
}

/** The announcement on the run's serial console, once it is there. */
async function announcement(name: string): Promise<HostKeyAnnouncement> {
  for (let i = 0; i < 150; i++) {
    const logs = (await dstack(["logs", name])).stdout;
    const line = logs.split("\n").find((l) => parseHostKeyLine(l) !== undefined);
    if (line) return parseHostKeyLine(line)!;
    await Bun.sleep(200);
  }
  throw new Error(`no ssh-host-key line from ${name}: ${(await dstack(["logs", name, "--diagnose"])).stdout.slice(-3000)}`);
}

async function ssh(port: number, knownHostsKey: string, identity: string, command: string) {
  writeFileSync(key("known_hosts"), `[127.0.0.1]:${port} ${knownHostsKey}\n`);
  const p = Bun.spawn(
    [
      "ssh",
      "-F",
      "/dev/null",
      "-i",
      key(identity),
      "-o",
      "IdentitiesOnly=yes",
      "-o",
      "BatchMode=yes",
      "-o",
      `UserKnownHostsFile=${key("known_hosts")}`,
      "-o",
      "GlobalKnownHostsFile=/dev/null",
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      "ConnectTimeout=10",
      "-p",
      String(port),
      "root@127.0.0.1",
      command,
    ],
    { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
  );
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

/** ssh until sshd answers (it starts after the announcement). */
async function sshUp(port: number, hostKey: string) {
  let last = { code: -1, stdout: "", stderr: "" };
  for (let i = 0; i < 50; i++) {
    last = await ssh(port, hostKey, "user", 'echo ok; cat /root/init-ran; echo "FOO=$FOO WD=$DSTACK_WORKING_DIR"');
    if (last.code === 0) return last;
    await Bun.sleep(200);
  }
  return last;
}

describe.skipIf(!engine)("a dev environment on a simulated host with the container runtime", () => {
  beforeAll(async () => {
    await ensureDevEnvImages(engine!);
    inst = await simInstall("dstack-devenv-rt", { runtime: "docker" });
    work = mkdtempSync(join(tmpdir(), "dstack-devenv-rt-work-"));
    keygen("user");
    keygen("other");
  }, 120_000);

  afterAll(async () => {
    await inst?.destroy();
  });

  test("apply -y -d; the attested host key; ssh with it pinned logs in with the user's key only; init ran; env is there", async () => {
    writeFileSync(
      key("dev.dstack.yml"),
      `type: dev-environment\nname: dev\nimage: ${DEVENV_IMAGE}\nworking_dir: /tmp\nenv:\n  - FOO=bar baz\ninit:\n  - echo init-ran > /root/init-ran\n`,
    );
    const r = await apply("dev.dstack.yml");
    expect(r.stderr).toContain("Run dev submitted");
    expect(r.code).toBe(0);
    const a = await announcement("dev");
    expect(a.keyType).toBe("ecdsa-sha2-nistp256");
    // the quote commits to the key and to the sealed keys: exactly the user's public key
    expect(a.authorizedKeysSha256).toBe(authorizedKeysSha256(readFileSync(key("user.pub"), "utf8").trim()));
    const q = checkQuote(a.quote, a.eventLog, hostKeyReportData(a.keyType, a.keyBase64, a.authorizedKeysSha256));
    const vm = (await ps()).find((v) => v.name === "dev")!;
    expect(q.simulated).toBe(true);
    expect(q.appId).toBe(vm.app_id);
    const manifest = parseAppCompose(vm.configuration.compose_file);
    expect(q.composeHash).toBe(composeHashOf(vm.configuration.compose_file));
    expect(manifest.allowed_envs).toContain("DSTACK_SSH_AUTHORIZED_KEYS");
    const port = vm.configuration.ports.find((p) => p.vm_port === 10022)!.host_port;
    const hostKey = `${a.keyType} ${a.keyBase64}`;

    const ok = await sshUp(port, hostKey);
    expect(ok.stderr).not.toContain("Permission denied");
    expect(ok.stdout).toBe("ok\ninit-ran\nFOO=bar baz WD=/tmp\n");
    expect(ok.code).toBe(0);
    // a command runs in the home dir, as sshd starts it; a login shell starts in the working dir
    expect((await ssh(port, hostKey, "user", "pwd; sh -l -c pwd")).stdout).toBe("/root\n/tmp\n");

    const other = await ssh(port, hostKey, "other", "echo should-not-run");
    expect(other.stdout).toBe("");
    expect(other.stderr).toContain("Permission denied");
    expect(other.code).toBe(255);

    const otherKey = readFileSync(`${key("other")}.pub`, "utf8")
      .split(" ")
      .slice(0, 2)
      .join(" ");
    const spoofed = await ssh(port, otherKey, "user", "echo should-not-run");
    expect(spoofed.stdout).toBe("");
    expect(spoofed.stderr).toContain("Host key verification failed");
    expect(spoofed.code).toBe(255);
  }, 120_000);

  test("dstack attach writes the alias with the attested key pinned: OpenSSH's ssh dev echo ok works through it", async () => {
    const p = Bun.spawn([join(DIST, "dstack"), "--prefix", inst!.prefix, "attach", "dev", "--ssh-identity", key("user")], {
      cwd: work,
      env: { ...process.env, HOME: work, XDG_CONFIG_HOME: join(work, ".config"), NO_COLOR: "1" },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    let stderr = "";
    const reading = (async () => {
      for await (const chunk of p.stderr as ReadableStream<Uint8Array>) stderr += new TextDecoder().decode(chunk);
    })();
    try {
      for (let i = 0; i < 300 && !stderr.includes("Press Ctrl+C to detach") && p.exitCode === null; i++) await Bun.sleep(100);
      expect(stderr).toContain("To connect to the run via SSH, use `ssh dev`.");
      // OpenSSH reads ~/.ssh/config from the passwd entry's home, not $HOME: name the file attach added its Include to
      const r = Bun.spawnSync(["ssh", "-F", join(work, ".ssh", "config"), "-o", "BatchMode=yes", "dev", "echo ok"], { stdin: "ignore" });
      expect(r.stderr.toString()).not.toContain("Host key verification failed");
      expect(r.stdout.toString()).toBe("ok\n");
      expect(r.exitCode).toBe(0);
    } finally {
      p.kill("SIGINT");
      await p.exited;
      await reading;
    }
  }, 120_000);

  test("the host key is the app's: an update in place boots the CVM again and it announces the same key", async () => {
    const before = await announcement("dev");
    writeFileSync(key("dev.dstack.yml"), `${readFileSync(key("dev.dstack.yml"), "utf8")}inactivity_duration: 1h\n`);
    const r = await apply("dev.dstack.yml");
    expect(r.stderr).toContain("Detected changes that can be updated in-place");
    expect(r.stderr).toContain("inactivity_duration");
    expect(r.code).toBe(0);
    let lines: HostKeyAnnouncement[] = [];
    for (let i = 0; i < 150 && lines.length < 2; i++) {
      lines = (await dstack(["logs", "dev"])).stdout.split("\n").flatMap((l) => parseHostKeyLine(l) ?? []);
      if (lines.length < 2) await Bun.sleep(200);
    }
    expect(lines.length).toBeGreaterThanOrEqual(2);
    const after = lines.at(-1)!;
    expect(`${after.keyType} ${after.keyBase64}`).toBe(`${before.keyType} ${before.keyBase64}`);
    const vm = (await ps()).find((v) => v.name === "dev")!;
    expect(
      checkQuote(after.quote, after.eventLog, hostKeyReportData(after.keyType, after.keyBase64, after.authorizedKeysSha256)).composeHash,
    ).toBe(composeHashOf(vm.configuration.compose_file));
  }, 120_000);

  test("a stop ends it at once (sshd and the wait answer TERM): ps says stopped", async () => {
    const t = Date.now();
    const r = await dstack(["stop", "dev", "-y"]);
    expect(r.code).toBe(0);
    expect(Date.now() - t).toBeLessThan(15_000);
    expect((await ps()).find((v) => v.name === "dev")?.run).toMatchObject({ status: "terminated", status_message: "stopped" });
  }, 120_000);

  test("an image without sshd, ssh-keygen and curl gets them from its package manager at start", async () => {
    writeFileSync(key("bare.dstack.yml"), `type: dev-environment\nname: bare\nimage: ${DEVENV_BARE_IMAGE}\n`);
    expect((await apply("bare.dstack.yml")).code).toBe(0);
    const a = await announcement("bare");
    const vm = (await ps()).find((v) => v.name === "bare")!;
    const port = vm.configuration.ports.find((p) => p.vm_port === 10022)!.host_port;
    let r = { code: -1, stdout: "", stderr: "" };
    for (let i = 0; i < 50 && r.code !== 0; i++) {
      r = await ssh(port, `${a.keyType} ${a.keyBase64}`, "user", `cat ${APT_GET_ARGS}`);
      if (r.code !== 0) await Bun.sleep(200);
    }
    expect(r.stdout).toBe("install -y -qq --no-install-recommends openssh-server curl\n");
    expect((await dstack(["logs", "bare"])).stdout).toContain(
      "[dstack] dev-environment: the image has no sshd ssh-keygen curl; installing openssh-server and curl\n",
    );
  }, 120_000);

  test("inactivity_duration ends an idle run: ps says terminated", async () => {
    writeFileSync(key("idle.dstack.yml"), `type: dev-environment\nname: idle\nimage: ${DEVENV_IMAGE}\ninactivity_duration: 3s\n`);
    const r = await apply("idle.dstack.yml");
    expect(r.code).toBe(0);
    await announcement("idle");
    let run: PsVm["run"];
    for (let i = 0; i < 100; i++) {
      run = (await ps()).find((v) => v.name === "idle")?.run;
      if (run?.status === "terminated") break;
      await Bun.sleep(300);
    }
    expect(run).toMatchObject({ status: "terminated", status_message: "terminated", termination_reason: "inactivity_duration_exceeded" });
    expect((await dstack(["ps", "-a", "-v"])).stdout).toMatch(/\nidle .* terminated .* inactivity duration exceeded\n/);
    expect((await dstack(["logs", "idle"])).stdout).toContain("[dstack] no SSH session for 3s\n[dstack] inactivity_duration exceeded\n");
  }, 120_000);
});
