/**
 * dstackup install / status / destroy / doctor in --simulate mode with detached daemons under a
 * temp --prefix. An install that starts the daemons runs the compiled binary (they are links to
 * it); the rest run in-process.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signerOfKey } from "../../../src/core/keys/env-key-signature.ts";
import { kmsRootKeys } from "../../../src/sim/guest-agent/attestation/key-root.ts";
import { runCli } from "../../helpers/cli.ts";
import { DIST, runBin, spawnCapture } from "../../helpers/run.ts";
import { simInstallFlags } from "../../helpers/sim-install.ts";
import { treeHash, treeListing } from "../../helpers/tree.ts";

const prefixes: string[] = [];
function newPrefix(): { prefix: string; p: { dashboard: string; auth: string; kms: string }; flags: string[] } {
  const prefix = mkdtempSync(join(tmpdir(), "dstackup-it-"));
  prefixes.push(prefix);
  // --runtime none: the engine probe is test/sim/runtime.test.ts's; these installs run no app
  const flags = simInstallFlags(prefix, { timeout: 30 });
  const at = (flag: string) => flags[flags.indexOf(flag) + 1]!;
  return { prefix, p: { dashboard: at("--dashboard-port"), auth: at("--auth-port"), kms: at("--kms-port") }, flags };
}

afterAll(async () => {
  for (const prefix of prefixes) await runBin("dstackup", ["destroy", "--purge", "-y", "--prefix", prefix]);
});

describe("dstackup install --simulate (detached daemons)", () => {
  const s = newPrefix();
  let installedTree = "";

  test("a fresh install starts both daemons, boots the KMS CVM and writes the state", async () => {
    const before = treeHash(s.prefix);
    expect(before).toBe(treeHash(s.prefix));
    const r = await runBin("dstackup", ["install", ...s.flags]);
    expect(r.stderr).toContain("preflight");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`dashboard: http://127.0.0.1:${s.p.dashboard}`);
    expect(r.stdout).toContain("the dashboard asks for a login: any user name, the token as the password");
    const token = readFileSync(join(s.prefix, "etc/dstack/vmm-auth-token"), "utf8").trim();
    const login = (pass: string) =>
      fetch(`http://127.0.0.1:${s.p.dashboard}/`, { headers: { authorization: `Basic ${btoa(`admin:${pass}`)}` } });
    expect((await login("wrong")).status).toBe(401);
    expect((await login(token)).status).not.toBe(401);
    expect(r.stdout).toContain(`dstack --prefix ${s.prefix} run nginx -p 8080:80`);
    const state = JSON.parse(readFileSync(join(s.prefix, "var/lib/dstack/dstackup-state.json"), "utf8"));
    expect(state.client_url).toBe(`http://127.0.0.1:${s.p.dashboard}`);
    expect(state.client_token_path).toBe(join(s.prefix, "etc/dstack/vmm-auth-token"));
    expect(state.allowlist_path).toBe(join(s.prefix, "etc/dstack/auth-allowlist.json"));
    expect(state.kms_vm_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(state.kms_url).toBe(`https://10.0.2.2:${s.p.kms}`);
    // the KMS's env-key signer, as the (simulated) KMS reported it: the simulated KMS root's key
    const root = new Uint8Array(readFileSync(join(s.prefix, "var/lib/dstack/vm/.sim-kms-root")));
    expect(state.kms_signer).toBe(signerOfKey(kmsRootKeys(root).k256));
    expect(readFileSync(join(s.prefix, "etc/dstack/vmm.toml"), "utf8")).toContain(`\nkms_url = "https://127.0.0.1:${s.p.kms}"\n`);
    expect(state.service_manager).toBe("detached");
    expect(state.simulate).toBe(true);
    expect(state.platform).toBe("simulated");
    // detached, dstack-auth caps and rotates its decision log itself: the file its stderr goes to
    const authLog = join(s.prefix, "run/dstack", `${state.auth_unit}.log`);
    const authPid = JSON.parse(readFileSync(join(s.prefix, "run/dstack", `${state.auth_unit}.pid`), "utf8"));
    expect(authPid.argv.slice(-2)).toEqual(["--log-file", authLog]);
    expect(readFileSync(authLog, "utf8")).toContain("dstack-auth listening on");
    expect(statSync(join(s.prefix, "etc/dstack/vmm-auth-token")).mode & 0o777).toBe(0o600);
    expect(statSync(join(s.prefix, "etc/dstack/vmm.toml")).mode & 0o777).toBe(0o600);
    const allow = JSON.parse(readFileSync(state.allowlist_path, "utf8"));
    expect(allow.osImages).toEqual([state.image_pin]);
    const st = await runCli("dstackup", ["status", "--json", "--prefix", s.prefix]);
    expect(st.code).toBe(0);
    const h = JSON.parse(st.stdout);
    expect(h.healthy).toBe(true);
    expect(h.components.map((c: { name: string }) => c.name)).toEqual(expect.arrayContaining(["vmm", "auth-webhook", "allowlist", "kms"]));
    expect(h.platform).toBe("simulated");
    const text = await runCli("dstackup", ["status", "--prefix", s.prefix]);
    expect(text.stdout).toStartWith("platform: simulated (no TEE)   image: ");
    // a state file written before (`"platform": "tdx"` for --simulate) reads as simulated too
    const stateFile = join(s.prefix, "var/lib/dstack/dstackup-state.json");
    const bytes = readFileSync(stateFile, "utf8");
    writeFileSync(stateFile, bytes.replace('"platform": "simulated"', '"platform": "tdx"'));
    try {
      const old = await runCli("dstackup", ["status", "--json", "--prefix", s.prefix]);
      expect(old.code).toBe(0);
      expect(JSON.parse(old.stdout).platform).toBe("simulated");
      expect((await runCli("dstackup", ["status", "--prefix", s.prefix])).stdout).toStartWith("platform: simulated (no TEE)");
    } finally {
      writeFileSync(stateFile, bytes);
    }
  }, 120_000);

  test("the same command again changes nothing and restarts nothing", async () => {
    const pidsBefore = readFileSync(join(s.prefix, "run/dstack", readPidName(s.prefix, "vmm")), "utf8");
    installedTree = treeHash(join(s.prefix, "etc"));
    const stateFile = join(s.prefix, "var/lib/dstack/dstackup-state.json");
    const stateBefore = statSync(stateFile);
    const r = await runBin("dstackup", ["install", ...s.flags]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("no change");
    expect(r.stderr).toContain("unchanged, not restarted");
    // not even the state file is rewritten (same bytes would still be a new inode and mtime)
    const stateAfter = statSync(stateFile);
    expect([stateAfter.ino, stateAfter.mtimeMs]).toEqual([stateBefore.ino, stateBefore.mtimeMs]);
    expect(readFileSync(join(s.prefix, "run/dstack", readPidName(s.prefix, "vmm")), "utf8")).toBe(pidsBefore);
    expect(treeHash(join(s.prefix, "etc"))).toBe(installedTree);
  }, 120_000);

  test("--dry-run with a changed flag prints the diff and changes nothing", async () => {
    const before = treeHash(s.prefix);
    const r = await runCli("dstackup", ["install", ...s.flags, "--host-api-port", "10077", "--dry-run"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("nothing was changed");
    expect(r.stdout).toContain(`update ${join(s.prefix, "etc/dstack/vmm.toml")}`);
    expect(r.stdout).toContain("+ port = 10077");
    expect(r.stdout).toMatch(/dstack-vmm-\S+: restart/);
    expect(r.stdout).toMatch(/dstack-auth-\S+: keep running/);
    expect(treeHash(s.prefix)).toBe(before);
  }, 60_000);

  test("a changed flag re-renders and restarts only the VMM; registered apps survive", async () => {
    const allowPath = join(s.prefix, "etc/dstack/auth-allowlist.json");
    const allow = JSON.parse(readFileSync(allowPath, "utf8"));
    allow.apps = { ["ab".repeat(20)]: { composeHashes: ["cd".repeat(32)], devices: [], allowAnyDevice: true } };
    writeFileSync(allowPath, JSON.stringify(allow, null, 2));
    const authPid = readFileSync(join(s.prefix, "run/dstack", readPidName(s.prefix, "auth")), "utf8");
    const vmmPid = readFileSync(join(s.prefix, "run/dstack", readPidName(s.prefix, "vmm")), "utf8");
    const r = await runBin("dstackup", ["install", ...s.flags, "--host-api-port", "10077"]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(s.prefix, "run/dstack", readPidName(s.prefix, "auth")), "utf8")).toBe(authPid);
    expect(readFileSync(join(s.prefix, "run/dstack", readPidName(s.prefix, "vmm")), "utf8")).not.toBe(vmmPid);
    expect(JSON.parse(readFileSync(allowPath, "utf8")).apps).toEqual(allow.apps);
    const st = await runCli("dstackup", ["status", "--prefix", s.prefix]);
    expect(st.code).toBe(0);
    expect(st.stdout).toContain("healthy");
  }, 120_000);

  test("a VMM still running an older vmm.toml (an apply stopped before its restart) is restarted by the next run", async () => {
    const stPath = join(s.prefix, "var/lib/dstack/dstackup-state.json");
    const st = JSON.parse(readFileSync(stPath, "utf8"));
    expect(st.vmm_config_sha256).toMatch(/^[0-9a-f]{64}$/);
    // what an interrupted apply leaves: the new vmm.toml on disk, the VMM started with an older one
    writeFileSync(stPath, JSON.stringify({ ...st, vmm_config_sha256: "0".repeat(64) }, null, 2));
    const vmmPid = readFileSync(join(s.prefix, "run/dstack", readPidName(s.prefix, "vmm")), "utf8");
    const r = await runBin("dstackup", ["install", ...s.flags, "--host-api-port", "10077"]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(s.prefix, "run/dstack", readPidName(s.prefix, "vmm")), "utf8")).not.toBe(vmmPid);
    expect(JSON.parse(readFileSync(stPath, "utf8")).vmm_config_sha256).toBe(st.vmm_config_sha256);
  }, 60_000);

  test("a changed --kms-port reaches the KMS CVM: the same VM, the new mapping, restarted; a plain destroy then install re-adopts it", async () => {
    const kms = () => runCli("dstack", ["--prefix", s.prefix, "inspect", "dstack-kms"]).then((r) => JSON.parse(r.stdout));
    const before = await kms();
    const port = String(Number(s.p.kms) + 1);
    const flags = s.flags.map((f, i, a) => (a[i - 1] === "--kms-port" ? port : f));
    const r = await runBin("dstackup", ["install", ...flags]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`updated the KMS CVM (vm ${before.id}: port changed) and restarted it`);
    const after = await kms();
    expect(after.id).toBe(before.id);
    expect(after.configuration.ports[0].host_port).toBe(Number(port));
    expect(after.configuration.compose_file).toBe(before.configuration.compose_file);
    const again = await runBin("dstackup", ["install", ...flags]);
    expect(again.stderr).toContain("KMS CVM already deployed");
    expect(again.stderr).toContain("no change");
    // a plain destroy stops the KMS CVM; the next install starts the same one and waits for its boot
    expect((await runBin("dstackup", ["destroy", "--prefix", s.prefix])).code).toBe(0);
    const back = await runBin("dstackup", ["install", ...flags]);
    expect(back.stderr).toContain(`started the existing KMS CVM (vm ${before.id})`);
    expect(back.stderr).toContain("KMS CVM booted");
    expect(back.code).toBe(0);
  }, 120_000);

  test("destroy keeps config and state; destroy --purge returns the prefix to its pre-install tree", async () => {
    const d = await runCli("dstackup", ["destroy", "--prefix", s.prefix]);
    expect(d.code).toBe(0);
    expect(d.stderr).toContain("KMS keys are kept");
    expect(statSync(join(s.prefix, "etc/dstack/vmm.toml")).isFile()).toBe(true);
    const st = await runCli("dstackup", ["status", "--prefix", s.prefix]);
    expect(st.code).toBe(1);
    const noTty = await runCli("dstackup", ["destroy", "--purge", "--prefix", s.prefix]);
    expect(noTty.code).toBe(2);
    expect(noTty.stderr).toContain("pass -y");
    const p = await runCli("dstackup", ["destroy", "--purge", "-y", "--prefix", s.prefix]);
    expect(p.code).toBe(0);
    expect(treeListing(s.prefix)).toEqual(["D  700"]);
  }, 120_000);
});

describe("-q", () => {
  test("install -q and destroy --purge -y -q print nothing when all goes well", async () => {
    const s = newPrefix();
    const i = await runBin("dstackup", ["install", ...s.flags, "-q"]);
    expect(i.code).toBe(0);
    expect(i.stderr).toBe("");
    const d = await runCli("dstackup", ["destroy", "--purge", "-y", "-q", "--prefix", s.prefix]);
    expect(d.code).toBe(0);
    expect(d.stderr).toBe("");
    expect(d.stdout).toBe("");
  }, 60_000);
});

describe("refusals leave the host unchanged", () => {
  test("a busy port refuses with exit 4 and the fix; nothing written", async () => {
    const s = newPrefix();
    const srv = Bun.serve({ hostname: "127.0.0.1", port: Number(s.p.auth), fetch: () => new Response("busy") });
    try {
      const before = treeHash(s.prefix);
      const r = await runCli("dstackup", ["install", ...s.flags]);
      expect(r.code).toBe(4);
      expect(r.stderr).toContain(`auth webhook port 127.0.0.1:${s.p.auth} is already in use; pass --auth-port <free-port>`);
      expect(r.stderr).toContain("nothing was changed");
      expect(treeHash(s.prefix)).toBe(before);
    } finally {
      srv.stop(true);
    }
  }, 60_000);

  test("an image without digest.txt refuses unless --allow-unpinned-image", async () => {
    const s = newPrefix();
    const img = join(s.prefix, "var/lib/dstack/images/dstack-0.5.9");
    await Bun.write(join(img, "metadata.json"), JSON.stringify({ kernel: "k", initrd: "i", version: "0.5.9" }));
    const before = treeHash(s.prefix);
    const r = await runCli("dstackup", ["install", ...s.flags, "--image", "dstack-0.5.9"]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("missing required file(s): digest.txt");
    expect(treeHash(s.prefix)).toBe(before);
  }, 60_000);

  test("a --kms-port outside the VMM's port-mapping range is a usage error; nothing written", async () => {
    const s = newPrefix();
    const before = treeHash(s.prefix);
    const flags = s.flags.filter((f, i, a) => f !== "--kms-port" && a[i - 1] !== "--kms-port");
    const r = await runCli("dstackup", ["install", ...flags, "--kms-port", "27082"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--kms-port 27082 is outside the VMM's port-mapping range (tcp 1-20000, udp 1-20000)");
    expect(treeHash(s.prefix)).toBe(before);
  }, 60_000);

  test("a guest image older than 0.5.0 is refused at preflight; nothing written", async () => {
    const s = newPrefix();
    const img = join(s.prefix, "var/lib/dstack/images/dstack-0.4.9");
    await Bun.write(join(img, "metadata.json"), JSON.stringify({ kernel: "k", initrd: "i", version: "0.4.9" }));
    await Bun.write(join(img, "digest.txt"), "ab".repeat(32));
    const before = treeHash(s.prefix);
    const r = await runCli("dstackup", ["install", ...s.flags, "--image", "dstack-0.4.9"]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("dstack-0.4.9 is version 0.4.9: dstack-vmm starts CVMs only from images 0.5.0 or newer");
    expect(treeHash(s.prefix)).toBe(before);
  }, 60_000);

  test("another dstack-vmm on the host: its CID window and host-api port are refused; nothing written", async () => {
    // a stand-in for another VMM: a process whose argv is `dstack-vmm <script> -c other.toml`
    const dir = mkdtempSync(join(tmpdir(), "other-vmm-"));
    writeFileSync(join(dir, "other.toml"), "[cvm]\ncid_start = 3000\ncid_pool_size = 1000\n[host_api]\nport = 10400\n");
    writeFileSync(join(dir, "idle.js"), "setTimeout(() => {}, 60_000);\n");
    const other = Bun.spawn(
      ["bash", "-c", `exec -a dstack-vmm ${process.execPath} ${join(dir, "idle.js")} -c ${join(dir, "other.toml")}`],
      { stdout: "ignore", stderr: "ignore" },
    );
    try {
      await Bun.sleep(200);
      const s = newPrefix();
      const before = treeHash(s.prefix);
      const cid = await runCli("dstackup", ["install", ...s.flags, "--cid-start", "3500"]);
      expect(cid.code).toBe(4);
      expect(cid.stderr).toMatch(/\[fail\] cids: .*3500/);
      const api = await runCli("dstackup", ["install", ...s.flags, "--host-api-port", "10400"]);
      expect(api.code).toBe(4);
      expect(api.stderr).toContain("host-api vsock port 10400 is already reserved by another dstack-vmm");
      expect(api.stderr).toContain("pass --host-api-port 10401");
      expect(treeHash(s.prefix)).toBe(before);
      // a window clear of the other VMM's is fine
      const clear = await runCli("dstackup", [
        "doctor",
        "--json",
        ...s.flags.filter((f, i, a) => f !== "--timeout" && a[i - 1] !== "--timeout"),
        "--cid-start",
        "1000",
      ]);
      expect(JSON.parse(clear.stdout).checks.find((c: { name: string }) => c.name === "cids").ok).toBe(true);
    } finally {
      other.kill();
    }
  }, 60_000);

  test("--expose is refused with the SSH-tunnel guidance", async () => {
    const r = await runCli("dstackup", ["install", "--simulate", "--expose", "0.0.0.0"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("ssh -L 9080:127.0.0.1:9080");
  });

  test("without --simulate on a host with no TDX, doctor names the failing checks", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cpu-"));
    writeFileSync(join(dir, "cpuinfo"), "flags\t\t: fpu vme\n");
    const knobs = { cpuinfo: join(dir, "cpuinfo"), devRoot: dir };
    const r = await runCli("dstackup", ["doctor", "--json", "--service-manager", "systemd", "--prefix", join(dir, "p")], { knobs });
    expect(r.code).toBe(4);
    const rep = JSON.parse(r.stdout);
    const failed = rep.checks.filter((c: { ok: boolean }) => !c.ok).map((c: { name: string }) => c.name);
    expect(failed).toEqual(expect.arrayContaining(["platform", "kvm", "binaries"]));
    // the default service manager too: on a host without systemd the report is still whole
    const auto = await runCli("dstackup", ["doctor", "--json", "--prefix", join(dir, "p")], { knobs });
    const names = JSON.parse(auto.stdout).checks.map((c: { name: string }) => c.name);
    expect(names).toEqual(expect.arrayContaining(["service-manager", "root", "platform", "qemu", "binaries", "ports", "image"]));
  });

  test.skipIf(existsSync("/run/systemd/system"))(
    "--service-manager systemd where systemd is not running: refused before any unit or file is written",
    async () => {
      const s = newPrefix();
      const units = mkdtempSync(join(tmpdir(), "units-"));
      const flags = s.flags.map((f, i, a) => (a[i - 1] === "--service-manager" ? "systemd" : f));
      const before = treeHash(s.prefix);
      const r = await runCli("dstackup", ["install", ...flags], { knobs: { systemdDir: units } });
      expect(r.code).toBe(4);
      expect(r.stderr).toContain("--service-manager systemd, but systemd is not running here");
      expect(treeHash(s.prefix)).toBe(before);
      expect(readdirSync(units)).toEqual([]);
    },
  );

  test("--dry-run with systemd lists the unit files it would write, with their text; nothing is written", async () => {
    const s = newPrefix();
    const units = mkdtempSync(join(tmpdir(), "units-"));
    const flags = s.flags.map((f, i, a) => (a[i - 1] === "--service-manager" ? "systemd" : f));
    const before = treeHash(s.prefix);
    const r = await runCli("dstackup", ["install", ...flags, "--ignore-preflight-errors", "service-manager", "--dry-run"], {
      knobs: { systemdDir: units },
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`create ${units}/dstack-vmm-\\S+\\.service`));
    expect(r.stdout).toMatch(new RegExp(`create ${units}/dstack-auth-\\S+\\.service`));
    expect(r.stdout).toContain("+ Restart=always");
    const j = await runCli("dstackup", ["install", ...flags, "--ignore-preflight-errors", "service-manager", "--dry-run", "--json"], {
      knobs: { systemdDir: units },
    });
    expect(JSON.parse(j.stdout).units.map((u: { action: string }) => u.action)).toEqual(["create", "create"]);
    expect(readdirSync(units)).toEqual([]);
    expect(treeHash(s.prefix)).toBe(before);
  });

  test("the binary ignores the test knobs as root, even in test mode", async () => {
    const s = newPrefix();
    const units = mkdtempSync(join(tmpdir(), "units-"));
    const flags = s.flags.map((f, i, a) => (a[i - 1] === "--service-manager" ? "systemd" : f));
    const argv = ["install", ...flags, "--ignore-preflight-errors", "service-manager", "--dry-run"];
    const r = await runBin("dstackup", argv, { env: { DSTACK_TEST_MODE: "1", DSTACK_SYSTEMD_DIR: units } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ \/etc\/systemd\/system\/dstack-vmm-\S+\.service/); // create, or keep/update if one is there
    expect(r.stdout).not.toContain(units);
  });

  test.skipIf(process.getuid?.() !== 0 || !Bun.which("setpriv"))(
    "the binary run as another user honours a knob only in test mode (DSTACK_TEST_MODE=1)",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "knob-"));
      chmodSync(dir, 0o755);
      writeFileSync(join(dir, "cpuinfo"), "flags\t\t: fpu tdx_host_platform\n", { mode: 0o644 });
      const doctor = async (env: Record<string, string>) => {
        const argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", join(DIST, "dstackup")];
        const r = await spawnCapture([...argv, "doctor", "--json", "--prefix", join(dir, "p")], { env });
        return JSON.parse(r.stdout).checks.find((c: { name: string }) => c.name === "platform").detail as string;
      };
      const fake = join(dir, "cpuinfo");
      expect(await doctor({ DSTACK_TEST_MODE: "1", DSTACK_CPUINFO: fake })).toStartWith("tdx"); // the fake cpuinfo's
      expect(await doctor({ DSTACK_CPUINFO: fake })).toBe(await doctor({})); // this host's, as if it were not set
    },
  );

  test("an invalid allowlist from an earlier install is refused at preflight; vmm.toml is not touched", async () => {
    const s = newPrefix();
    expect((await runBin("dstackup", ["install", ...s.flags, "--no-kms"])).code).toBe(0);
    const allow = join(s.prefix, "etc/dstack/auth-allowlist.json");
    writeFileSync(allow, '{"apps": 5}');
    const before = treeHash(join(s.prefix, "etc"));
    const r = await runCli("dstackup", ["install", ...s.flags, "--no-kms", "--host-api-port", "10099"]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`${allow} is invalid`);
    expect(r.stderr).toContain("dstack-auth check --config");
    expect(treeHash(join(s.prefix, "etc"))).toBe(before);
  }, 60_000);
});

function readPidName(prefix: string, which: "vmm" | "auth"): string {
  const st = JSON.parse(readFileSync(join(prefix, "var/lib/dstack/dstackup-state.json"), "utf8"));
  return `${which === "vmm" ? st.vmm_unit : st.auth_unit}.pid`;
}

describe("a failure after the daemons started", () => {
  test("the state is already written: status sees the install and destroy --purge stops both daemons", async () => {
    const s = newPrefix();
    // Something the install must keep: it was in the state dir before.
    await Bun.write(join(s.prefix, "var/lib/dstack/images/mine/notes.txt"), "the operator's own file\n");
    const before = treeListing(s.prefix);
    // The simulator refuses CreateVm (as a VMM would for a bad request): the KMS CVM cannot be created.
    const r = await runBin("dstackup", ["install", ...s.flags], { env: { DSTACK_SIM_FAULTS: "CreateVm" } });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("createVm for the kms cvm failed");
    expect(r.stderr).toContain("dstackup destroy");
    const state = JSON.parse(readFileSync(join(s.prefix, "var/lib/dstack/dstackup-state.json"), "utf8"));
    const st = await runCli("dstackup", ["status", "--json", "--prefix", s.prefix]);
    const pids = (JSON.parse(st.stdout).components as { name: string; detail: string }[])
      .filter((c) => c.name === state.vmm_unit || c.name === state.auth_unit)
      .map((c) => Number(/pid (\d+)/.exec(c.detail)?.[1]));
    expect(pids).toHaveLength(2);
    for (const pid of pids) expect(() => process.kill(pid, 0)).not.toThrow();
    const d = await runCli("dstackup", ["destroy", "--purge", "-y", "--prefix", s.prefix]);
    expect(d.code).toBe(0);
    await Bun.sleep(100);
    for (const pid of pids) {
      let alive = true;
      try {
        process.kill(pid, 0);
        alive = !readFileSync(`/proc/${pid}/stat`, "utf8").split(" ")[2]!.startsWith("Z");
      } catch {
        alive = false;
      }
      expect(alive).toBe(false);
    }
    expect(treeListing(s.prefix)).toEqual(before); // what was there before the install is kept
  }, 60_000);
});
