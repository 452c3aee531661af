/**
 * `dstack apply` of `.dstack.yml` tasks against a simulated install (the simulator
 * plays the VMM and the KMS, the real dstack-auth decides): the plan, the confirm
 * read from stdin, -y -d, the same-name cases, discovery and stdin.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DIST, runBin } from "../../helpers/run.ts";
import { type SimInstall, simInstall } from "../../helpers/sim-install.ts";

let sim: SimInstall;
let work = "";

const dstack = (args: string[], o: { stdin?: string } = {}) => runBin("dstack", ["--prefix", sim.prefix, ...args], { cwd: work, ...o });
const write = (name: string, text: string) => writeFileSync(join(work, name), text);
type Vm = { name: string; app_id: string; status: string; configuration: { compose_file: string } };
/** The VMs other than the install's KMS. */
const vms = async () => (JSON.parse((await dstack(["ps", "-a", "--json"])).stdout) as Vm[]).filter((v) => v.name !== "dstack-kms");

const HELLO = "type: task\nname: hello\nimage: alpine:3.20\ncommands:\n  - echo hi\n";

beforeAll(async () => {
  sim = await simInstall("dstack-apply");
  work = mkdtempSync(join(tmpdir(), "dstack-apply-work-"));
}, 90_000);

afterAll(async () => {
  await sim.destroy();
});

describe("dstack apply", () => {
  test("echo n | apply prints the plan and changes nothing", async () => {
    write("hello.dstack.yml", HELLO);
    const r = await dstack(["apply", "-f", "hello.dstack.yml"], { stdin: "n\n" });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(" Configuration  hello.dstack.yml\n");
    expect(r.stdout).toContain(" Type           task (nodes=1)\n");
    expect(r.stdout).toContain(" Resources      cpu=2.. mem=8GB.. disk=100GB.. gpu=0..\n");
    expect(r.stdout).toMatch(/ Compose hash {3}[0-9a-f]{64}\n/);
    expect(r.stdout).toMatch(
      /\n # {2}BACKEND +RESOURCES +INSTANCE TYPE +PRICE\n 1 {2}vmm \([^)]+\) +cpu=2 mem=8GB disk=100GB +dstack-\S+ +-\n/,
    );
    expect(r.stderr).toContain("Submit the run hello? [y/n]: n\n");
    expect(r.stderr).toContain("\nExiting...\n");
    expect(await vms()).toEqual([]);
  });

  test("--dry-run prints the plan only; no answer and no -y is an error", async () => {
    expect((await dstack(["apply", "-f", "hello.dstack.yml", "--dry-run"])).code).toBe(0);
    const r = await dstack(["apply", "-f", "hello.dstack.yml"], { stdin: "" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no answer on stdin and no -y: nothing was changed");
    expect(await vms()).toEqual([]);
  });

  test("-y -d submits: the CVM runs the generated compose, its hash is registered", async () => {
    const r = await dstack(["apply", "-f", "hello.dstack.yml", "-y", "-d"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("Run hello submitted, detaching...\n");
    const [vm] = await vms();
    expect(vm!.name).toBe("hello");
    const manifest = JSON.parse(vm!.configuration.compose_file);
    expect(manifest.docker_compose_file).toStartWith('x-dstack-run: "{\\"type\\":\\"task\\",\\"name\\":\\"hello\\"');
    const hash = new Bun.CryptoHasher("sha256").update(vm!.configuration.compose_file).digest("hex");
    expect(sim.allowlist().apps[vm!.app_id]!.composeHashes).toContain(hash);
  });

  test("the same configuration again: no changes; --force is needed", async () => {
    const r = await dstack(["apply", "-f", "hello.dstack.yml", "-y", "-d"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("Active run hello already exists. Detected no changes.\nUse --force to apply anyway.\n");
  });

  test("changed commands are updated in place: same VM and app, the new hash registered", async () => {
    const [before] = await vms();
    write("hello.dstack.yml", HELLO.replace("echo hi", "echo bye"));
    const r = await dstack(["apply", "-f", "hello.dstack.yml", "-y", "-d"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      "Active run hello already exists. Detected changes that can be updated in-place:\n- Configuration properties:\n  - commands\n",
    );
    expect(r.stderr).toContain("Run hello updated, detaching...\n");
    const [after] = await vms();
    expect(after!.app_id).toBe(before!.app_id);
    expect(JSON.parse(after!.configuration.compose_file).docker_compose_file).toContain('"echo bye"');
    const hash = new Bun.CryptoHasher("sha256").update(after!.configuration.compose_file).digest("hex");
    expect(sim.allowlist().apps[after!.app_id]!.composeHashes).toEqual([hash]);
  }, 60_000);

  test("discovery: .dstack.yml in the working dir; -f - needs -y; a bad file names file and line", async () => {
    write(".dstack.yml", HELLO.replace("hello", "found"));
    const found = await dstack(["apply", "--dry-run"]);
    expect(found.code).toBe(0);
    expect(found.stdout).toContain(" Configuration  .dstack.yml\n");
    const stdin = await dstack(["apply", "-f", "-"], { stdin: HELLO });
    expect(stdin.code).toBe(2);
    expect(stdin.stderr).toContain("Cannot read configuration from stdin if -y/--yes is not specified");
    const piped = await dstack(["apply", "-f", "-", "-y", "--dry-run"], { stdin: HELLO });
    expect(piped.code).toBe(0);
    expect(piped.stdout).toContain(" Configuration  -\n");
    write("bad.dstack.yml", "type: task\nimage: alpine\ncomands: [x]\n");
    const bad = await dstack(["apply", "-f", "bad.dstack.yml", "--dry-run"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('bad.dstack.yml:3: comands: unknown key (Extra inputs are not permitted); did you mean "commands"?');
  });

  test("ps shows the run in dstackai's words; -v has dstackai's run columns; --json its status", async () => {
    const ps = await dstack(["ps"]);
    expect(ps.code).toBe(0);
    expect(ps.stdout).toMatch(/\nhello +\S+ +\S+ +running /);
    const v = await dstack(["ps", "-v"]);
    expect(v.stdout).toMatch(/^NAME +BACKEND +RESOURCES +INSTANCE TYPE +PRICE +STATUS +PROBES +SUBMITTED +ERROR\n/);
    expect(v.stdout).toMatch(/\nhello +vmm \([^)]+\) +cpu=2 mem=8GB disk=100GB +dstack-\S+ +- +running /);
    expect(v.stdout).not.toContain("dstack-kms");
    const j = JSON.parse((await dstack(["ps", "--json"])).stdout) as { name: string; run?: { status: string; type: string } }[];
    expect(j.find((x) => x.name === "hello")!.run).toMatchObject({
      type: "task",
      status: "running",
      configuration_path: "hello.dstack.yml",
    });
    expect(j.find((x) => x.name === "dstack-kms")!.run).toBeUndefined();
  });

  test("offer: the host's free CPUs and memory; --gpu against its GPU list", async () => {
    const r = await dstack(["offer"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(" Resources    cpu=1.. mem=0GB.. disk=1GB.. gpu=0..\n");
    expect(r.stdout).toMatch(
      /\n # {2}BACKEND +RESOURCES +INSTANCE TYPE +PRICE\n 1 {2}vmm \([^)]+\) +cpu=\d+ mem=[\d.]+GB disk=1GB +dstack-\S+ +-\n/,
    );
    const g = await dstack(["offer", "--gpu", "H100:2", "--json"]);
    expect(g.code).toBe(0);
    expect(JSON.parse(g.stdout)).toMatchObject({ requirements: { resources: "cpu=1.. mem=0GB.. disk=1GB.. gpu=H100:2" }, total_offers: 0 });
    const bad = await dstack(["offer", "--gpu", "H100:A100"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("GPU spec name conflict");
  });

  test("stop asks for a run (echo n changes nothing); -y stops it; ps shows stopped", async () => {
    const no = await dstack(["stop", "hello"], { stdin: "n\n" });
    expect(no.code).toBe(0);
    expect(no.stderr).toContain("Are you sure you want to stop the run? [y/n]: n\n");
    const yes = await dstack(["stop", "hello", "-y", "-x"]);
    expect(yes.code).toBe(0);
    expect(yes.stdout).toMatch(/^hello \([0-9a-f]{8}\): stopped\n$/);
    const ps = await dstack(["ps", "-a", "-v"]);
    expect(ps.stdout).toMatch(/\nhello .* stopped /);
  }, 60_000);

  test("${{ secrets.NAME }} comes from dstack secret and is sealed: the plan names the env, the compose has no value", async () => {
    const home = mkdtempSync(join(tmpdir(), "dstack-apply-secrets-"));
    const env = { XDG_CONFIG_HOME: home };
    expect((await runBin("dstack", ["secret", "set", "tok", "tok-value-77"], { env })).code).toBe(0);
    write("sec.dstack.yml", "type: task\nname: sec\nimage: alpine\nenv:\n  - TOKEN=${{ secrets.tok }}\ncommands: [echo]\n");
    const r = await runBin("dstack", ["--prefix", sim.prefix, "apply", "-f", "sec.dstack.yml", "--dry-run", "--json"], { cwd: work, env });
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.env).toEqual(["TOKEN"]);
    expect(r.stdout).not.toContain("tok-value-77");
    const missing = await dstack(["apply", "-f", "sec.dstack.yml", "--dry-run"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("env.TOKEN: Failed to interpolate due to missing vars: ['secrets.tok']");
  });

  test("delete -f: asks, then removes the run the file names and withdraws its registration", async () => {
    write("del.dstack.yml", "type: task\nname: del-me\nimage: alpine\ncommands: [echo]\n");
    expect((await dstack(["apply", "-f", "del.dstack.yml", "-y", "-d"])).code).toBe(0);
    const appId = (await vms()).find((v) => v.name === "del-me")!.app_id;
    const no = await dstack(["delete", "-f", "del.dstack.yml"], { stdin: "n\n" });
    expect(no.stderr).toContain("Delete the run del-me? [y/n]: n\n");
    expect((await vms()).some((v) => v.name === "del-me")).toBe(true);
    const yes = await dstack(["delete", "-f", "del.dstack.yml", "-y"]);
    expect(yes.code).toBe(0);
    expect(yes.stderr).toContain("Run del-me deleted");
    expect((await vms()).some((v) => v.name === "del-me" && v.status !== "removing")).toBe(false); // RemoveVm finishes in the background
    expect(sim.allowlist().apps[appId]).toBeUndefined();
    const again = await dstack(["delete", "-f", "del.dstack.yml", "-y"]);
    expect(again.code).toBe(3);
    expect(again.stderr).toContain("Run del-me does not exist");
  }, 60_000);

  test("attached, Ctrl-C detaches: exit 0, says how to reattach, the run goes on", async () => {
    write("long.dstack.yml", "type: task\nname: long\nimage: alpine\ncommands: [sleep 600]\n");
    const p = Bun.spawn([join(DIST, "dstack"), "--prefix", sim.prefix, "apply", "-f", "long.dstack.yml", "-y"], {
      cwd: work,
      env: { ...process.env, NO_COLOR: "1" },
      stdout: "pipe",
      stderr: "pipe",
    });
    let err = "";
    const reader = (p.stderr as ReadableStream<Uint8Array>).getReader();
    while (!err.includes("provisioning completed")) {
      const { value, done } = await reader.read();
      if (done) break;
      err += new TextDecoder().decode(value);
    }
    expect(err).toContain("long provisioning completed (running)");
    p.kill("SIGINT");
    expect(await p.exited).toBe(0);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      err += new TextDecoder().decode(value);
    }
    expect(err).toContain("Detached. The run goes on; reattach with `dstack attach long --logs`");
    expect((await vms()).find((v) => v.name === "long")).toBeDefined();
    expect(JSON.parse((await dstack(["ps", "--json"])).stdout).find((v: { name: string }) => v.name === "long").status).toBe("running");
  }, 60_000);
});
