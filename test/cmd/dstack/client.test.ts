/**
 * dstack against an install made by `dstackup install --simulate`
 * in a temp prefix: the simulator plays the VMM and the KMS, and the real
 * dstack-auth decides.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { captureIo, runCli } from "../../helpers/cli.ts";
import { runBin } from "../../helpers/run.ts";
import { type SimInstall, simInstall } from "../../helpers/sim-install.ts";
import { until } from "../../helpers/until.ts";

let prefix = "";
/** dstack in-process (the daemons the install started are real processes); dstackBin for what only the binary shows. */
const dstack = (args: string[], env: Record<string, string> = {}) => runCli("dstack", ["--prefix", prefix, ...args], { env });
const dstackBin = (args: string[]) => runBin("dstack", ["--prefix", prefix, ...args]);
const allowPath = () => join(prefix, "etc/dstack/auth-allowlist.json");
const allowlist = () => JSON.parse(readFileSync(allowPath(), "utf8"));

let inst: SimInstall | undefined;
beforeAll(async () => {
  inst = await simInstall("dstack-client"); // --runtime none: these tests deploy images of a registry; test/sim/runtime.test.ts runs containers
  prefix = inst.prefix;
}, 60_000);

afterAll(async () => {
  await inst?.destroy();
});

describe("dstack run → booted → rm", () => {
  test("run registers the hash, boots, prints id, app id, hash and the URL; ps, inspect, logs see it", async () => {
    const r = await dstack(["run", "nginx:1.27", "-p", "18080:80", "--json"]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ name: "nginx", status: "running", registered: "added" });
    // --runtime none: said plainly by run and by status, not only in the serial log
    expect(out.note).toContain("apps do not run on this simulated host: it has no container engine");
    const st = await runBin("dstackup", ["status", "--prefix", prefix]);
    expect(st.stdout).toMatch(/^runtime: none — apps do not run .*--runtime auto`$/m);
    expect(out.vmId).toMatch(/^[0-9a-f-]{36}$/);
    expect(out.appId).toBe(out.composeHash.slice(0, 40));
    expect(out.ports).toEqual([
      { protocol: "tcp", host_address: "127.0.0.1", host_port: 18080, vm_port: 80, url: "http://127.0.0.1:18080/" },
    ]);
    expect(allowlist().apps[out.appId].composeHashes).toEqual([out.composeHash]);
    const ps = await dstackBin(["ps"]); // the compiled binary, once
    expect(ps.stdout).toMatch(/^NAME\s+ID\s+APP ID\s+STATUS\s+PORTS\s+UPTIME\s+IMAGE$/m);
    expect(ps.stdout).toMatch(
      new RegExp(`^nginx\\s+${out.vmId.slice(0, 8)}\\s+${out.appId.slice(0, 12)}\\s+running\\s+127\\.0\\.0\\.1:18080->80/tcp`, "m"),
    );
    const json = JSON.parse((await dstack(["ls", "--json"])).stdout);
    expect(json.find((v: { name: string }) => v.name === "nginx").configuration.compose_file).toContain("nginx:1.27");
    const ins = JSON.parse((await dstack(["inspect", out.vmId.slice(0, 6)])).stdout);
    expect(ins.id).toBe(out.vmId);
    const logs = await dstack(["logs", "nginx", "-n", "3"]);
    expect(logs.stdout.trim().split("\n")).toHaveLength(3);
    expect(logs.stdout).toContain("boot progress: done");
    // getopt forms: the value attached (-n2), after = (-n=2, --lines=2)
    for (const form of [["-n2"], ["-n=2"], ["--lines=2"], ["--lines", "2"]])
      expect((await dstack(["logs", "nginx", ...form])).stdout.trim().split("\n")).toHaveLength(2);
    const busy = await dstack(["rm", "nginx"]);
    expect(busy.code).toBe(4);
    expect(busy.stderr).toContain("is running");
    const same = await dstack(["run", "nginx:1.27", "-p", "18081:80"]);
    expect(same.code).toBe(1);
    expect(same.stderr).toContain('a VM named "nginx" already exists');
    expect(same.stderr).toContain("dstack upgrade");
    const rm = await dstack(["rm", "-f", "nginx"]);
    expect(rm.code).toBe(0);
    await Bun.sleep(100);
    expect((await dstack(["ps", "-a"])).stdout).not.toMatch(/^nginx /m);
    expect((await dstack(["inspect", "nginx"])).code).toBe(3);
  }, 60_000);
});

describe("the security path", () => {
  test("allowlist revoke → the next boot is denied and run/restart print the reason", async () => {
    const r = JSON.parse((await dstack(["run", "redis", "-n", "cache", "--json"])).stdout);
    expect(r.status).toBe("running");
    const ls = await dstack(["allowlist", "ls", "--json"]);
    expect(Object.keys(JSON.parse(ls.stdout).apps)).toContain(r.appId);
    const rv = await dstack(["allowlist", "revoke", r.appId]);
    expect(rv.code).toBe(0);
    expect(allowlist().apps[r.appId]).toBeUndefined();
    expect((await dstack(["allowlist", "revoke", r.appId])).code).toBe(3);
    const re = await dstack(["restart", "cache"]);
    expect(re.code).toBe(1);
    expect(re.stderr).toContain(`cache (${r.vmId.slice(0, 8)}): boot failed: `);
    expect(re.stderr).toContain("Boot denied: app not registered");
    expect(re.stdout).toBe("");
    expect((await dstack(["ps", "-a"])).stdout).toMatch(/^cache\s.*exited \(boot failed\)/m);
    const again = await dstack(["start", "cache"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("Boot denied: app not registered");
    expect((await dstack(["logs", "cache"])).stdout).toContain("Boot denied: app not registered");
  }, 60_000);

  test("allowlist ls names the VMs of each app; revoke takes a VM name too: the VMM says which app it runs", async () => {
    const r = JSON.parse((await dstack(["run", "busybox", "-n", "byname", "--json"])).stdout);
    expect(allowlist().apps[r.appId]).toBeDefined();
    // ls says which VM runs which app id; without a VMM to ask, it lists the file and says why the names are missing
    const ls = await dstack(["allowlist", "ls"]);
    expect(ls.stdout).toMatch(/^APP ID\s+COMPOSE HASH\s+VMS$/m);
    expect(ls.stdout).toMatch(new RegExp(`^${r.appId}\\s+${r.composeHash}\\s+byname$`, "m"));
    expect(JSON.parse((await dstack(["allowlist", "ls", "--json"])).stdout).vms[r.appId]).toEqual(["byname"]);
    const away = await dstack(["allowlist", "ls", "--host", "http://127.0.0.1:1"]);
    expect(away.code).toBe(0);
    expect(away.stdout).toMatch(/^APP ID\s+COMPOSE HASH$/m);
    expect(away.stdout).toContain(r.appId);
    expect(away.stderr).toContain("VM names left out: the VMM could not be asked");
    const rv = await dstack(["allowlist", "revoke", "byname"]);
    expect(rv.code).toBe(0);
    expect(rv.stdout).toContain(`revoked app ${r.appId} (VM byname)`);
    expect(allowlist().apps[r.appId]).toBeUndefined();
    const none = await dstack(["allowlist", "revoke", "no-such-vm"]);
    expect(none.code).toBe(3);
    expect(none.stderr).toContain('"no-such-vm" is neither an app id (40 hex characters) nor the name or id prefix of a VM');
    const hash = await dstack(["allowlist", "revoke", r.composeHash]);
    expect(hash.code).toBe(2);
    expect(hash.stderr).toContain("a compose hash goes in --hash");
    expect((await dstack(["rm", "-f", "byname"])).code).toBe(0);
  }, 60_000);

  test("a denied first boot: run exits 1 with the reason from the VM's log", async () => {
    // register nothing: point the client at an allowlist the webhook does not read
    const other = join(prefix, "other-allowlist.json");
    writeFileSync(other, JSON.stringify({ apps: {} }));
    const r = await dstack(["run", "busybox", "-n", "lonely", "--allowlist", other]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("lonely did not boot: Boot denied: app not registered");
  }, 60_000);

  test("a failed CreateVm removes the registration this call added, not an older one", async () => {
    const before = allowlist();
    // Named by --host, the VMM is treated as remote (its vmm.toml unread): port 30000, outside its
    // allowed range, is refused by CreateVm itself, after the registration.
    const st = JSON.parse(readFileSync(join(prefix, "var/lib/dstack/dstackup-state.json"), "utf8"));
    const remote = ["--host", st.client_url, "--token", readFileSync(st.client_token_path, "utf8").trim()];
    const r = await dstack(["run", "alpine", "-n", "blocked", "-p", "30000:80", ...remote]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Port mapping is not allowed for tcp:30000");
    expect(allowlist()).toEqual(before);
    // an app that was already registered keeps its registration after a failed CreateVm
    const ok = JSON.parse((await dstack(["run", "alpine", "-n", "kept", "--json"])).stdout);
    const again = await dstack(["run", "alpine", "-n", "kept", "-p", "30000:80", "--detach", ...remote]);
    expect(again.code).toBe(1);
    expect(allowlist().apps[ok.appId]).toBeDefined();
  }, 60_000);

  test("env secrets are encrypted for the app: names reach the VM, the value never lands on disk or in output", async () => {
    const secret = `s3cret-${crypto.randomUUID()}`;
    const envFile = join(mkdtempSync(join(tmpdir(), "env-")), "app.env");
    writeFileSync(envFile, `DB_URL="postgres://u:${secret}@db/x"\n# comment\nTOKEN=plain\n`);
    const r = await dstack(["run", "myapp", "-e", `API_KEY=${secret}`, "-e", "FROM_ENV", "--env-file", envFile, "--json"], {
      FROM_ENV: secret,
    });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.encryptedEnv.sort()).toEqual(["API_KEY", "DB_URL", "FROM_ENV", "TOKEN"]);
    expect(r.stdout + r.stderr).not.toContain(secret);
    const logs = await dstack(["logs", "myapp"]);
    expect(logs.stdout).toMatch(/decrypted env variables: .*API_KEY/);
    expect(logs.stdout).not.toContain(secret);
    const hits: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.isFile() && statSync(p).size < 5_000_000 && readFileSync(p).includes(secret)) hits.push(p);
      }
    };
    walk(prefix);
    expect(hits).toEqual([]);
    const manifest = JSON.parse(JSON.parse((await dstack(["inspect", "myapp"])).stdout).configuration.compose_file);
    expect(manifest.allowed_envs.sort()).toEqual(["API_KEY", "DB_URL", "FROM_ENV", "TOKEN"]);
  }, 60_000);
});

describe("concurrency", () => {
  test("50 concurrent `dstack run` calls: all registered, all booted", async () => {
    const runs = await Promise.all(Array.from({ length: 50 }, (_, i) => dstack(["run", `img${i}`, "-n", `c${i}`, "-p", `0:80`, "--json"])));
    for (const r of runs) expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    const outs = runs.map((r) => JSON.parse(r.stdout));
    expect(outs.every((o) => o.status === "running")).toBe(true);
    const al = allowlist();
    for (const o of outs) expect(al.apps[o.appId].composeHashes).toContain(o.composeHash);
    const ports = outs.map((o) => o.ports[0].host_port);
    expect(new Set(ports).size).toBe(50);
    expect(ports.every((p) => p >= 1024 && p <= 20000)).toBe(true); // inside the allowed range, never privileged or ephemeral
  }, 120_000);
});

describe("other verbs", () => {
  test("stop / start / restart, upgrade (old → new hash), deploy of a compose file", async () => {
    const r = JSON.parse((await dstack(["run", "web", "-n", "svc", "--json"])).stdout);
    expect((await dstack(["stop", "svc"])).stdout).toBe(`svc (${r.vmId.slice(0, 8)}): stopped\n`); // the guest shut down within the timeout
    expect((await dstack(["ps"])).stdout).not.toMatch(/^svc /m);
    expect((await dstack(["ps", "-a"])).stdout).toMatch(/^svc\s.*stopped/m);
    const started = await dstack(["start", "svc"]);
    expect(started.code).toBe(0);
    expect(started.stdout).toBe(`svc (${r.vmId.slice(0, 8)}): started (boot done)\n`);
    expect((await dstack(["start", "svc"])).stdout).toContain("already running");
    expect((await dstack(["start", "svc", "-q"])).stdout).toBe("");
    const up = await dstack(["upgrade", "svc", "web:2", "--restart", "--json"]);
    expect(up.code).toBe(0);
    const u = JSON.parse(up.stdout);
    expect(u.oldComposeHash).toBe(r.composeHash);
    expect(u.newComposeHash).not.toBe(r.composeHash);
    expect(u.status).toBe("upgraded and restarted");
    // the new version booted: the previous hash is withdrawn (docs/allowlist.md)
    expect(u.previousHash).toBe("withdrawn");
    expect(allowlist().apps[r.appId].composeHashes).toEqual([u.newComposeHash]);
    const dir = mkdtempSync(join(tmpdir(), "compose-"));
    writeFileSync(join(dir, "docker-compose.yaml"), 'services:\n  web:\n    image: nginx\n    ports:\n      - "80:80"\n');
    const d = await dstack(["deploy", "-c", join(dir, "docker-compose.yaml"), "-n", "composed", "-p", "18090:80", "--json"]);
    expect(d.code).toBe(0);
    expect(JSON.parse(d.stdout).status).toBe("running");
    // a new IMAGE for an app of several services is ambiguous
    writeFileSync(join(dir, "two.yaml"), "services:\n  web:\n    image: nginx\n  db:\n    image: redis\n");
    expect((await dstack(["deploy", "-c", join(dir, "two.yaml"), "-n", "pair", "--detach"])).code).toBe(0);
    const amb = await dstack(["upgrade", "pair", "nginx:2"]);
    expect(amb.code).toBe(2);
    expect(amb.stderr).toContain("pair runs 2 services (web, db): a new IMAGE is ambiguous");
    // a new IMAGE keeps the command, the ports and the env names of a `dstack run` app
    const cmd = JSON.parse(
      (await dstack(["run", "busybox", "-n", "cmdapp", "-p", "0:8080", "--detach", "--json", "--", "sleep", "100"])).stdout,
    );
    expect((await dstack(["upgrade", "cmdapp", "busybox:2"])).code).toBe(0);
    const docker = JSON.parse(JSON.parse((await dstack(["inspect", "cmdapp"])).stdout).configuration.compose_file)
      .docker_compose_file as string;
    expect(docker).toContain('image: "busybox:2"');
    expect(docker).toContain('command:\n      - "sleep"\n      - "100"');
    expect(docker).toContain('- "8080:8080"');
    expect(JSON.parse((await dstack(["inspect", "cmdapp"])).stdout).app_id).toBe(cmd.appId); // same app, new hash
    const dry = await dstack(["deploy", join(dir, "docker-compose.yaml"), "-n", "dry", "--dry-run"]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("dry run: nothing was registered or created");
    expect((await dstack(["ps", "-a"])).stdout).not.toMatch(/^dry /m);
  }, 60_000);

  test("a name or a unique id prefix selects a VM; an ambiguous prefix lists the candidates", async () => {
    const vms = JSON.parse((await dstack(["ps", "-a", "--json"])).stdout) as { id: string; name: string }[];
    // flags before the command reach it: `dstack --json ps`, `dstack --host H ps`
    const idsOf = (text: string) => (JSON.parse(text) as { id: string }[]).map((v) => v.id);
    expect(idsOf((await dstack(["--json", "ps", "-a"])).stdout)).toEqual(vms.map((v) => v.id));
    const st = JSON.parse(readFileSync(join(prefix, "var/lib/dstack/dstackup-state.json"), "utf8"));
    const hostArgs = ["--host", st.client_url, "--token", readFileSync(st.client_token_path, "utf8").trim()];
    expect(idsOf((await dstack([...hostArgs, "-a", "--json", "ps"])).stdout)).toEqual(vms.map((v) => v.id));
    const byFirst = new Map<string, string[]>();
    for (const v of vms) byFirst.set(v.id[0]!, [...(byFirst.get(v.id[0]!) ?? []), v.id]);
    const [ch, ids] = [...byFirst].find(([, xs]) => xs.length > 1)!;
    const amb = await dstack(["inspect", ch]);
    expect(amb.code).toBe(2);
    for (const id of ids) expect(amb.stderr).toContain(id);
    // ps -q: full ids only (docker ps -q); `apps` is an alias of ps; `remove` of rm
    const running = vms.filter((v) => (v as { status?: string }).status === "running").map((v) => v.id);
    expect((await dstack(["ps", "-q"])).stdout.trim().split("\n").sort()).toEqual(running.sort());
    expect((await dstack(["apps", "-a", "-q"])).stdout.trim().split("\n").sort()).toEqual(vms.map((v) => v.id).sort());
    // not the KMS CVM: dstack refuses to remove it (system-vm.test.ts)
    const victim = vms.find((v) => (v as { status?: string }).status === "running" && v.name !== "dstack-kms")!;
    const unique = victim.id.slice(0, 13);
    const rm = await dstack(["remove", "-f", unique]);
    expect(rm.code).toBe(0);
    expect(rm.stdout).toContain(`${victim.name} (${victim.id.slice(0, 8)}): removed`);
  });
});

// (a compose or env file that does not exist is not found, exit 3: script-output.test.ts)
describe("bad input: exit 2 and a message naming the flag", () => {
  const cases: [string[], string][] = [
    [["run", "nginx", "-p", "80:80:80:80:80"], "-p"],
    [["run", "nginx", "-p", "sctp:8080:80"], "sctp"],
    [["run", "nginx", "--vcpu", "0"], "--vcpu"],
    [["run", "nginx", "--memory", "lots"], "--memory"],
    [["run", "nginx", "--disk", "-1"], "--disk"],
    [["run", "nginx", "--gpu", "H100:x"], "--gpu"],
    [["run", "nginx", "-e", "1BAD=x"], "--env"],
    [["run", "nginx", "--timeout", "soon"], "--timeout"],
    [["run", "nginx", "--colour"], "--colour"],
    [["run"], "IMAGE"],
    [["deploy"], "-c"],
    [["logs", "x", "--ch", "dmesg"], "--ch"],
    [["logs", "x", "-n", "many"], "--lines"],
    [["stop", "x", "--timeout", "soon"], "--timeout"],
    [["run", "nginx", "--timeout", "0"], "--timeout"],
    [["run", "nginx", "--timeout", "5ms"], "--timeout"],
    [["run", "nginx", "--guest-image", "nosuch"], "--guest-image"],
    [["run", "nginx", "-p", "30000:80"], "--port"],
    [["run", "nginx", "-p", "udp:30053:53"], "--port"],
    [["allowlist", "revoke", "0123456789012345678901234567890123456789", "--hash", "zz"], "--hash"],
    [["ps", "--al"], "--al"],
    [["run", "nginx", "-n", "bad/name"], "--name"],
    [["run", "nginx", "-e", "NOT_IN_ENV_XYZ"], "NOT_IN_ENV_XYZ"],
    [["stop"], "NAME"],
    [["rm"], "NAME"],
    [["upgrade", "x"], "-c"],
    [["allowlist", "revoke"], "APP_ID"],
  ];
  for (const [args, flag] of cases) {
    test(`dstack ${args.join(" ")}`, async () => {
      // run/deploy with --dry-run, so nothing is created if a check were missing; the guest image
      // is checked against the VMM's list, which --dry-run does not ask.
      const dry = ["run", "deploy"].includes(args[0]!) && !args.includes("--guest-image");
      const r = await dstack(dry ? [...args, "--dry-run"] : args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(flag);
    });
  }
});

describe("logs -f", () => {
  test("follows new lines and exits 0 on Ctrl-C (SIGINT)", async () => {
    const r = JSON.parse((await dstack(["run", "tail-me", "--json"])).stdout);
    const { join: j } = await import("node:path");
    const p = Bun.spawn([j(import.meta.dir, "../../../dist/dstack"), "--prefix", prefix, "logs", "-f", "-n", "1", r.name], {
      stdout: "pipe",
      stderr: "pipe",
    });
    let out = "";
    const reading = (async () => {
      for await (const chunk of p.stdout) out += new TextDecoder().decode(chunk);
    })();
    expect(await until(() => out.includes("\n"))).toBe(true); // it follows: the last line is out
    await dstack(["stop", r.name]); // writes "shutdown requested" to the serial log
    expect(await until(() => out.includes("shutdown requested"))).toBe(true);
    p.kill("SIGINT");
    expect(await p.exited).toBe(0);
    await reading;
    expect(out).toContain("shutdown requested");
  }, 30_000);
});

describe("logs -f in-process", () => {
  test("stops at the command's interrupt with exit 0 and what it streamed", async () => {
    const r = JSON.parse((await dstack(["run", "tail-in", "--json"])).stdout);
    const io = captureIo();
    const following = runCli("dstack", ["--prefix", prefix, "logs", "-f", "-n", "1", r.name], { io });
    expect(await until(() => io.out.includes("\n"))).toBe(true); // it follows: the last line is out
    await dstack(["stop", r.name]);
    expect(await until(() => io.out.includes("shutdown requested"))).toBe(true);
    io.signal("SIGINT");
    const done = await following;
    expect(done.code).toBe(0);
    expect(done.stdout).toContain("shutdown requested");
  }, 30_000);
});

describe("progress", () => {
  test("on a TTY: one spinner line rewritten in place; without one: plain lines", async () => {
    const bin = join(import.meta.dir, "../../../dist/dstack");
    const tty = Bun.spawnSync(["script", "-qec", `${bin} --prefix ${prefix} run tty-img -n ttyapp`, "/dev/null"], {
      env: { ...process.env, NO_COLOR: "1" },
    });
    const text = tty.stdout.toString();
    expect(tty.exitCode).toBe(0);
    expect(text).toContain("\r\x1b[K⠋ ");
    expect(text).toMatch(/ttyapp: running \((done|running)\)/);
    const plain = await dstack(["run", "plain-img", "-n", "plainapp"]);
    expect(plain.code).toBe(0);
    expect(plain.stderr).not.toContain("\x1b");
    expect(plain.stderr).toMatch(/^ {2}created VM [0-9a-f-]{36}$/m);
    expect(plain.stderr).toMatch(/^ {2}plainapp: running \((done|running)\)$/m);
  }, 30_000);
});

describe("--no-kms", () => {
  test("run --no-kms registers nothing and boots without asking the webhook", async () => {
    const before = allowlist();
    const r = await dstack(["run", "plain", "--no-kms", "--json"]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.registered).toBe("skipped");
    expect(out.status).toBe("running");
    expect(allowlist()).toEqual(before);
    const manifest = JSON.parse(JSON.parse((await dstack(["inspect", "plain"])).stdout).configuration.compose_file);
    expect(manifest.kms_enabled).toBe(false);
    expect((await dstack(["run", "plain2", "--no-kms", "-e", "A=b"])).code).toBe(2);
  });
});
