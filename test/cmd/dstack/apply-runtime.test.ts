/**
 * `.dstack.yml` runs that really run (compiled binaries, a temp --prefix, the engine of
 * test/helpers/engine.ts, an image of busybox with every applet, imported without a
 * registry): a task that echoes and exits 0 is `done` and `apply` exits 0 with its output;
 * exit 3 → `exited (3)` and apply exits 3; an ended task's CVM is shut down (by the attached
 * apply, or by the first ps after a detached one) and its status, exit code and logs stay; a
 * service's probes are waited for by the attached apply and shown by ps; a service whose commands start an HTTP server
 * serves the measured `files` on its URL; a `-e` secret reaches the container and nothing
 * under the layout.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureBusyboxAllImage, BUSYBOX_ALL_IMAGE as IMAGE, testEngine } from "../../helpers/engine.ts";
import { DIST, runBin } from "../../helpers/run.ts";
import { type SimInstall, simInstall } from "../../helpers/sim-install.ts";
import { grepTree } from "../../helpers/tree.ts";

const engine = await testEngine();

let inst: SimInstall | undefined;
let prefix = "";
let work = "";
const dstack = (args: string[], o: { stdin?: string } = {}) =>
  runBin("dstack", ["--prefix", prefix, ...args], { cwd: work, timeoutMs: 120_000, ...o });
const write = (name: string, text: string) => writeFileSync(join(work, name), text);

/** The first 12 hex of an md5: the container checks the secret without the test writing it into the configuration. (The service uses entrypoint: busybox's sh -i, which dstackai's commands run in, loses output and pipelines without a TTY.) */
const md5 = (s: string) => new Bun.CryptoHasher("md5").update(s).digest("hex").slice(0, 12);

describe.skipIf(!engine)(".dstack.yml runs in containers on a simulated host", () => {
  beforeAll(async () => {
    await ensureBusyboxAllImage(engine!);
    inst = await simInstall("dstack-apply-rt", { runtime: "docker" });
    prefix = inst.prefix;
    work = mkdtempSync(join(tmpdir(), "dstack-apply-rt-work-"));
  }, 120_000);

  afterAll(async () => {
    await inst?.destroy();
  });

  test("a task that echoes and exits 0: apply attaches, prints its output, exits 0; ps says exited (0); logs has it", async () => {
    write("ok.dstack.yml", `type: task\nname: ok-task\nimage: ${IMAGE}\ncommands:\n  - echo hello from the task\n  - echo second line\n`);
    const r = await dstack(["apply", "-f", "ok.dstack.yml", "-y"]);
    expect(r.stderr).toContain("ok-task provisioning completed (running)");
    // stdout and stderr (busybox sh -i prints its banner there) interleave: the lines, in order
    expect(r.stdout).toMatch(/hello from the task\n[\s\S]*second line\n/);
    expect(r.code).toBe(0);
    // the task has ended: its CVM is shut down (its resources freed), its status, exit code and logs stay
    const ps = JSON.parse((await dstack(["ps", "-a", "--json"])).stdout) as {
      id: string;
      name: string;
      status: string;
      run?: { status: string; status_message: string; exit_code: number };
    }[];
    const row = ps.find((v) => v.name === "ok-task")!;
    expect(row.status).toBe("stopped");
    expect(row.run).toMatchObject({ status: "done", status_message: "exited (0)", exit_code: 0 });
    expect((await dstack(["ps"])).stdout).not.toContain("ok-task");
    expect(await engine!.docker("ps", "-q", "--filter", `label=io.dstack-sim.vm=${row.id}`)).toMatchObject({ stdout: "" });
    const logs = await dstack(["logs", "ok-task"]);
    expect(logs.stdout).toMatch(/hello from the task\n[\s\S]*second line\n/);
    expect(logs.stdout).not.toContain("boot progress");
    expect((await dstack(["logs", "ok-task", "--diagnose"])).stdout).toContain("boot progress");
    const again = await dstack(["attach", "ok-task", "--logs"]);
    expect(again.stdout).toMatch(/hello from the task\n[\s\S]*second line\n/);
    expect(again.stderr).toContain("Run ok-task done (exited (0))"); // the words of a run that ends while attached
    expect(again.code).toBe(0);
  }, 120_000);

  test("exit 3: apply exits 3 and ps says exited (3)", async () => {
    write("fail.dstack.yml", `type: task\nname: fail-task\nimage: ${IMAGE}\ncommands:\n  - echo failing\n  - exit 3\n`);
    const r = await dstack(["apply", "-f", "fail.dstack.yml", "-y"]);
    expect(r.stdout).toContain("failing\n");
    expect(r.stderr).toContain("Exited (3)");
    expect(r.code).toBe(3);
    const v = await dstack(["ps", "-a", "-v"]);
    expect(v.stdout).toMatch(/\nfail-task .* exited \(3\) /);
    const again = await dstack(["attach", "fail-task", "--logs"]);
    expect(again.stderr).toContain("Run fail-task is failed (exited (3))");
    expect(again.code).toBe(3);
  }, 120_000);

  test("detached: the first ps that sees the task's exit line shuts its CVM down", async () => {
    write("bg.dstack.yml", `type: task\nname: bg-task\nimage: ${IMAGE}\ncommands:\n  - echo in the background\n`);
    expect((await dstack(["apply", "-f", "bg.dstack.yml", "-y", "-d"])).code).toBe(0);
    type Row = { name: string; status: string; run?: { status: string } };
    const row = async () => (JSON.parse((await dstack(["ps", "-a", "--json"])).stdout) as Row[]).find((v) => v.name === "bg-task")!;
    let r = await row();
    for (let i = 0; i < 100 && r.run?.status !== "done"; i++) {
      await Bun.sleep(200);
      r = await row();
    }
    expect(r.run?.status).toBe("done");
    for (let i = 0; i < 100 && r.status !== "stopped"; i++) {
      await Bun.sleep(100);
      r = await row();
    }
    expect(r).toMatchObject({ status: "stopped", run: { status: "done" } });
  }, 120_000);

  test("a service's probes: the attached apply waits for them and says it is up; ps -v shows them, --json their streaks", async () => {
    write(
      "probed.dstack.yml",
      `type: service\nname: probed-svc\nimage: ${IMAGE}\nauth: false\nentrypoint: /bin/sh -c\ncommands:\n  - mkdir -p /www && echo ok > /www/health && echo ok > /www/index.html && sleep 2 && exec httpd -f -p 8000 -h /www\nport: 8000\nprobes:\n  - {type: http, url: /health, interval: 1s, ready_after: 2}\n  - {type: http, interval: 1s}\n`,
    );
    const p = Bun.spawn([join(DIST, "dstack"), "--prefix", prefix, "apply", "-f", "probed.dstack.yml", "-y"], {
      cwd: work,
      stdout: "ignore",
      stderr: "pipe",
      env: { ...process.env, NO_COLOR: "1" },
    });
    const reader = p.stderr.getReader();
    let err = "";
    const deadline = Date.now() + 90_000;
    while (!err.includes("Service probed-svc is up") && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      err += new TextDecoder().decode(value);
    }
    expect(err).toContain("Waiting for the probes of probed-svc...");
    expect(err).toContain("Probe 1/2 (GET /health): ~ HTTP 200 (1/2 passes)");
    expect(err).toContain("Probe 1/2 (GET /health): ✓ HTTP 200");
    expect(err).toContain("Service probed-svc is up: probes ✓✓");
    // the URL it printed answers
    const url = /Service is published at:\n {2}(\S+)/.exec(err)![1]!;
    expect((await fetch(url)).status).toBe(200);
    p.kill("SIGINT");
    expect(await p.exited).toBe(0);
    // ps checks each probe once: one pass is ready for ready_after 1, passing but short of ready_after 2
    expect((await dstack(["ps", "-v"])).stdout).toMatch(/\nprobed-svc .* running +~✓ /);
    const row = (JSON.parse((await dstack(["ps", "--json"])).stdout) as { name: string; run?: { probes: unknown } }[]).find(
      (v) => v.name === "probed-svc",
    )!;
    expect(row.run?.probes).toEqual([{ success_streak: 1 }, { success_streak: 1 }]);
    expect((await dstack(["delete", "-f", "probed.dstack.yml", "-y"])).code).toBe(0);
  }, 120_000);

  test("a service serves its measured files on the printed URL; a -e secret reaches the container and nothing else", async () => {
    write("index.html", "hello from files\n");
    write(
      "svc.dstack.yml",
      `type: service\nname: web-svc\nimage: ${IMAGE}\nauth: false\nenv: [SECRET]\nfiles: ["index.html:/www/index.html"]\nentrypoint: /bin/sh -c\ncommands:\n  - printf %s "$SECRET" | md5sum | grep -q ^${md5("s3cret-value-42")} && echo secret-ok; exec httpd -f -p 8000 -h /www\nport: 8000\n`,
    );
    const r = await dstack(["apply", "-f", "svc.dstack.yml", "-y", "-d", "-e", "SECRET=s3cret-value-42"]);
    expect(r.code).toBe(0);
    const vm = (
      JSON.parse((await dstack(["ps", "--json"])).stdout) as { name: string; configuration: { ports: { host_port: number }[] } }[]
    ).find((v) => v.name === "web-svc")!;
    const port = vm.configuration.ports[0]!.host_port;
    let body = "";
    for (let i = 0; i < 100 && body === ""; i++) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) });
        if (res.status === 200) body = await res.text();
      } catch {
        /* not up yet */
      }
      if (body === "") await Bun.sleep(200);
    }
    expect(body).toBe("hello from files\n");
    let logs = "";
    for (let i = 0; i < 50 && !logs.includes("secret-ok"); i++) {
      logs = (await dstack(["logs", "web-svc"])).stdout;
      if (!logs.includes("secret-ok")) await Bun.sleep(200);
    }
    expect(logs).toContain("secret-ok");
    expect(grepTree(prefix, "s3cret-value-42")).toEqual([]);
  }, 120_000);
});
