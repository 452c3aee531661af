/**
 * `dstack attach` of a dev environment, client side, against the in-process simulator: a VM
 * whose compose describes a dev environment, its CVM port 10022 mapped to a real OpenSSH server
 * (test/helpers/sshd.ts) standing in for the CVM's sshd, and the `[dstack] ssh-host-key` line
 * on its serial console carrying a simulated quote over that server's key. The alias it writes
 * works with OpenSSH's own `ssh`; a key other than the server's, a quote for another compose and
 * another user's SSH key are refused; stop removes the alias.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildAppCompose, composeHashOf } from "../../../src/core/compose/app-compose.ts";
import { authorizedKeysSha256, HOST_KEY_LINE_PREFIX, hostKeyReportData } from "../../../src/core/dev-env/host-key-line.ts";
import { RUN_KEY } from "../../../src/core/dstack-run/run-compose.ts";
import { replayRtmrs, runtimeEvent } from "../../../src/core/tdx/eventlog.ts";
import { encodeSimulatedQuote } from "../../../src/core/tdx/quote.ts";
import { connectVmm, type VmmClient } from "../../../src/core/vmm/client.ts";
import { captureIo, runCli } from "../../helpers/cli.ts";
import { startSim, type TestSim } from "../../helpers/sim.ts";
import { type Sshd, startSshd } from "../../helpers/sshd.ts";

let sim: TestSim;
let sshd: Sshd;
let c: VmmClient;
let app: Bun.Server<undefined>;

beforeAll(async () => {
  sim = startSim({ tcp: true });
  sshd = await startSshd();
  c = await connectVmm({ host: sim.url });
  app = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("app in the dev environment") });
});
afterEach(async () => {
  // every VM maps the one stand-in sshd's port: the next test's VM may only map it once this one is gone
  for (const vm of (await c.status({ brief: true })).vms) {
    if (vm.status === "running") await c.stopVm(vm.id);
    await c.removeVm(vm.id);
  }
  await until(() => sim.sim.store.vms.size === 0);
});
afterAll(async () => {
  app.stop(true);
  c.close();
  await sshd.stop();
  await sim.stop();
});

function devCompose(name: string) {
  const description = {
    type: "dev-environment",
    name,
    configuration_path: "dev.dstack.yml",
    configuration: { ide: "vscode", user: sshd.user, working_dir: "/workspace" },
  };
  const dockerCompose = `${RUN_KEY}: ${JSON.stringify(JSON.stringify(description))}\nservices:\n  run:\n    image: "local/devenv:test"\n`;
  return buildAppCompose({ name, dockerCompose, kms: false });
}

/** The authorized keys the stand-in CVM lets in: the test user's public key, as apply seals it. */
const userKeys = () => readFileSync(`${identity()}.pub`, "utf8").trim();

/** The announcement a CVM measured as (appId, composeHash), letting in `keys`, makes for `key` (`<type> <base64>`). */
function announcement(key: string, appId: string, composeHash: string, keys = userKeys()): string {
  const [type, b64] = key.split(" ") as [string, string];
  const ak = authorizedKeysSha256(keys);
  const eventLog = [runtimeEvent("app-id", Buffer.from(appId, "hex")), runtimeEvent("compose-hash", Buffer.from(composeHash, "hex"))];
  const quote = encodeSimulatedQuote({ mrTd: "00".repeat(48), rtmrs: replayRtmrs(eventLog), reportData: hostKeyReportData(type, b64, ak) });
  const answer = { quote: Buffer.from(quote).toString("hex"), event_log: JSON.stringify(eventLog), report_data: "" };
  return `run-1  | ${HOST_KEY_LINE_PREFIX}${type} ${b64} ${ak} ${Buffer.from(JSON.stringify(answer)).toString("base64")}`;
}

/** A booted dev-environment VM; `announce` says what its serial console announces (default: the server's own key, truthfully). */
async function devVm(name: string, announce?: (appId: string, hash: string) => string): Promise<void> {
  const built = devCompose(name);
  const ports = [
    { protocol: "tcp", host_address: "127.0.0.1", host_port: 15000 + Math.floor(Math.random() * 4000), vm_port: 10022 },
    { protocol: "tcp", host_address: "127.0.0.1", host_port: 19500 + Math.floor(Math.random() * 400), vm_port: app.port! },
  ];
  const { id } = await c.createVm({
    name,
    image: "dstack-0.5.5",
    compose_file: built.composeFile,
    vcpu: 1,
    memory: 512,
    disk_size: 1,
    ports,
  });
  // the stand-in CVM's sshd is on another port than any the policy allows: re-point the mapping (UpdateVm applies no policy)
  ports[0]!.host_port = sshd.port;
  await c.updateVm({ id, update_ports: true, ports });
  for (let i = 0; i < 400; i++) {
    const vm = (await c.status({ ids: [id], brief: true })).vms[0];
    if (vm?.status === "running" && vm.boot_progress === "done") break;
    await Bun.sleep(25);
  }
  const vm = (await c.status({ ids: [id], brief: false })).vms[0]!;
  const line = announce
    ? announce(vm.app_id, composeHashOf(vm.configuration!.compose_file))
    : announcement(sshd.hostPublicKey, vm.app_id, composeHashOf(vm.configuration!.compose_file));
  sim.sim.store.log(id, "serial", line);
}

function laptop() {
  const home = mkdtempSync(join(tmpdir(), "attach-home-"));
  return { home, env: { HOME: home, XDG_CONFIG_HOME: undefined, DSTACK_HOST: sim.url } };
}

const identity = () => join(sshd.home, ".ssh", "id_ed25519");

async function until(p: () => boolean, ms = 20_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await Bun.sleep(50)) if (p()) return;
  throw new Error("timed out");
}

const ssh = (home: string, ...args: string[]) =>
  Bun.spawnSync(["ssh", "-F", join(home, ".ssh", "config"), "-o", "BatchMode=yes", ...args], { stdout: "pipe", stderr: "pipe" });

describe("dstack attach of a dev environment", () => {
  test("verifies the key, writes the alias and the Include, ssh NAME works, ports forwarded, the IDE link; Ctrl-C detaches; stop removes the alias", async () => {
    await devVm("dev-ok");
    const { home, env } = laptop();
    const io = captureIo();
    const attached = runCli("dstack", ["attach", "dev-ok", "--ssh-identity", identity()], { io, env });
    await until(() => io.err.includes("Press Ctrl+C") || io.err.includes("error"));
    expect(io.err).toContain("Verified dev-ok's SSH host key against its simulated quote");
    // attach without apply: which app this is is the VMM's word, and it says so
    expect(io.err).toContain("Not checked: which app: its app id and compose are the VMM's record (see `dstack inspect dev-ok`)");
    expect(io.err).toContain(`Added \`Include ${join(home, ".config/dstack-tee/ssh/config")}\` at the top of ${join(home, ".ssh/config")}`);
    expect(io.err).toContain("To connect to the run via SSH, use `ssh dev-ok`.");
    expect(io.err).toContain("vscode://vscode-remote/ssh-remote+dev-ok/workspace");
    const r = ssh(home, "dev-ok", "echo", "ok");
    expect(r.stderr.toString()).toBe("");
    expect(r.stdout.toString()).toBe("ok\n");
    // the run's port, forwarded through the alias to the next free local port (its own number is taken here)
    const fwd = /localhost:(\d+) -> (\d+)/.exec(io.err);
    expect(Number(fwd?.[2])).toBe(app.port as number);
    expect(await (await fetch(`http://127.0.0.1:${fwd?.[1]}/`)).text()).toBe("app in the dev environment");
    const ours = join(home, ".config/dstack-tee/ssh");
    expect(statSync(join(ours, "config")).mode & 0o777).toBe(0o600);
    expect(statSync(join(ours, "known_hosts")).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(ours, "known_hosts"), "utf8")).toBe(`dev-ok ${sshd.hostPublicKey.split(" ").slice(0, 2).join(" ")}\n`);
    expect(readFileSync(join(ours, "config"), "utf8")).toContain("StrictHostKeyChecking yes");
    io.signal("SIGINT");
    const done = await attached;
    expect(done.stderr).toContain("Detached.");
    expect(done.code).toBe(0);
    // a second attach does not add the Include again
    const io2 = captureIo();
    const again = runCli("dstack", ["attach", "dev-ok", "--ssh-identity", identity()], { io: io2, env });
    await until(() => io2.err.includes("Press Ctrl+C"));
    io2.signal("SIGINT");
    expect((await again).stderr).not.toContain("Added `Include");
    expect(readFileSync(join(home, ".ssh/config"), "utf8").match(/^Include /gm)?.length).toBe(1);
    const stop = await runCli("dstack", ["stop", "dev-ok", "-y", "-f"], { env });
    expect(stop.stdout + stop.stderr).toContain("its SSH alias dev-ok removed");
    expect(readFileSync(join(ours, "config"), "utf8")).not.toContain("Host dev-ok");
    expect(readFileSync(join(ours, "known_hosts"), "utf8")).toBe("");
  }, 60_000);

  test("the run ends while attached: attach ends, saying so, and removes the alias", async () => {
    await devVm("dev-ends");
    const { home, env } = laptop();
    const io = captureIo();
    const attached = runCli("dstack", ["attach", "dev-ends", "--ssh-identity", identity()], { io, env });
    await until(() => io.err.includes("Press Ctrl+C"));
    const config = join(home, ".config/dstack-tee/ssh/config");
    expect(readFileSync(config, "utf8")).toContain("Host dev-ends\n");
    const vm = (await c.status({ brief: true })).vms.find((v) => v.name === "dev-ends")!;
    await c.stopVm(vm.id);
    const r = await attached;
    expect(r.stderr).toContain("Run dev-ends is stopped");
    expect(r.stderr).toContain("Removed the SSH alias dev-ends (the run ended)");
    expect(r.code).toBe(1);
    expect(readFileSync(config, "utf8")).not.toContain("Host dev-ends");
  }, 60_000);

  test("Ctrl-C while waiting for the CVM's host key: attach detaches at once and writes nothing", async () => {
    await devVm("dev-silent", () => "run-1  | sshd starting"); // no announcement (yet)
    const { home, env } = laptop();
    const io = captureIo();
    const attached = runCli("dstack", ["attach", "dev-silent", "--ssh-identity", identity()], { io, env });
    await until(() => io.err.includes("Waiting for dev-silent's SSH host key"));
    const t = Date.now();
    io.signal("SIGINT");
    const r = await attached;
    expect(Date.now() - t).toBeLessThan(3000);
    expect(r.stderr).toContain("Detached.");
    expect(r.code).toBe(0);
    expect(existsSync(join(home, ".config/dstack-tee"))).toBe(false);
  }, 60_000);

  test("a key other than the one the server on the port holds: ssh refuses it, attach exits 4 and removes the alias", async () => {
    const other = Bun.spawnSync(["sh", "-c", `d=$(mktemp -d) && ssh-keygen -q -t ed25519 -N '' -f $d/k && cat $d/k.pub`])
      .stdout.toString()
      .trim();
    await devVm("dev-swapped", (appId, hash) => announcement(other, appId, hash));
    const { home, env } = laptop();
    const r = await runCli("dstack", ["attach", "dev-swapped", "--ssh-identity", identity()], { env });
    expect(r.stderr).toContain("does not hold the attested host key");
    expect(r.code).toBe(4);
    expect(readFileSync(join(home, ".config/dstack-tee/ssh/config"), "utf8")).not.toContain("Host dev-swapped");
  }, 60_000);

  test("a quote for another compose: refused before anything is written", async () => {
    await devVm("dev-other-compose", (appId) => announcement(sshd.hostPublicKey, appId, "ab".repeat(32)));
    const { home, env } = laptop();
    const r = await runCli("dstack", ["attach", "dev-other-compose"], { env });
    expect(r.stderr).toContain("not attested: the quote's compose hash is abab");
    expect(r.code).toBe(4);
    expect(existsSync(join(home, ".config/dstack-tee"))).toBe(false); // no alias, no key generated
    expect(existsSync(join(home, ".ssh/config"))).toBe(false);
  }, 60_000);

  test("another user's SSH key is not let in: the CVM's attested keys are not theirs, refused before anything is written", async () => {
    await devVm("dev-stranger");
    const { home, env } = laptop();
    const r = await runCli("dstack", ["attach", "dev-stranger"], { env }); // the client's own generated key, not the server's authorized one
    expect(r.stderr).toContain("lets in other SSH keys than yours");
    expect(r.code).toBe(4);
    expect(existsSync(join(home, ".config/dstack-tee/ssh/config"))).toBe(false);
  }, 60_000);

  test("the host added a key of its own to the run's sealed keys: refused before anything is written", async () => {
    const hostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGhvc3Qtb3BlcmF0b3Ita2V5LWhlcmUtMzJieXRlcyE= operator@host";
    await devVm("dev-resealed", (appId, hash) => announcement(sshd.hostPublicKey, appId, hash, `${userKeys()}\n${hostKey}`));
    const { home, env } = laptop();
    const r = await runCli("dstack", ["attach", "dev-resealed", "--ssh-identity", identity()], { env });
    expect(r.stderr).toContain("lets in other SSH keys than yours");
    expect(r.code).toBe(4);
    expect(existsSync(join(home, ".config/dstack-tee/ssh/config"))).toBe(false);
  }, 60_000);
});
