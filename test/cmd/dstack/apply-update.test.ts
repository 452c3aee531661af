/**
 * Issue 16, against runs that really run (compiled binaries, a simulated host with the engine of
 * test/helpers/engine.ts): an in-place update of `commands` (the changed configuration applied with
 * -y upgrades and restarts the same CVM; attached, apply streams only the new command's lines and
 * exits with its code), and Ctrl-C (SIGINT) during an attached apply detaches (exit 0, says how to
 * reattach) while the run goes on.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUSYBOX_ALL_IMAGE, ensureBusyboxAllImage, testEngine } from "../../helpers/engine.ts";
import { DIST, runBin } from "../../helpers/run.ts";
import { type SimInstall, simInstall } from "../../helpers/sim-install.ts";

const engine = await testEngine();

let inst: SimInstall | undefined;
let work = "";
const dstack = (args: string[]) => runBin("dstack", ["--prefix", inst!.prefix, ...args], { cwd: work, timeoutMs: 120_000 });
/** A task whose one command runs under `sh -c` (busybox's `sh -i` loses output without a terminal). */
const task = (name: string, command: string) =>
  `type: task\nname: ${name}\nimage: ${BUSYBOX_ALL_IMAGE}\nentrypoint: /bin/sh -c\ncommands:\n  - ${command}\n`;
const ticks = (name: string, word: string) => task(name, `i=0; while true; do i=$((i+1)); echo ${word} $i; sleep 0.3; done`);

interface Row {
  id: string;
  name: string;
  status: string;
  run?: { status: string; status_message: string };
}
const row = async (name: string) => (JSON.parse((await dstack(["ps", "-a", "--json"])).stdout) as Row[]).find((v) => v.name === name);

/** Poll `dstack logs NAME` until `re` matches (or time runs out); the last output. */
async function logsUntil(name: string, re: RegExp, tries = 100): Promise<string> {
  let out = "";
  for (let i = 0; i < tries; i++) {
    out = (await dstack(["logs", name])).stdout;
    if (re.test(out)) break;
    await Bun.sleep(200);
  }
  return out;
}

describe.skipIf(!engine)("apply: an update in place, and Ctrl-C while attached (containers on a simulated host)", () => {
  beforeAll(async () => {
    await ensureBusyboxAllImage(engine!);
    inst = await simInstall("dstack-apply-up", { runtime: "docker" });
    work = mkdtempSync(join(tmpdir(), "dstack-apply-up-work-"));
  }, 120_000);

  afterAll(async () => {
    await inst?.destroy();
  });

  test("a changed commands: apply -y updates the run in place, and the new command's output appears", async () => {
    writeFileSync(join(work, "up.dstack.yml"), ticks("up-task", "v1"));
    expect((await dstack(["apply", "-f", "up.dstack.yml", "-y", "-d"])).code).toBe(0);
    expect(await logsUntil("up-task", /v1 2\n/)).toMatch(/v1 2\n/);
    const before = (await row("up-task"))!;
    expect(before.run?.status).toBe("running");

    writeFileSync(join(work, "up.dstack.yml"), task("up-task", "echo v2 says hello; echo v2 done"));
    const r = await dstack(["apply", "-f", "up.dstack.yml", "-y"]);
    expect(r.stderr).toContain("Active run up-task already exists. Detected changes that can be updated in-place:");
    expect(r.stderr).toContain("  - commands\n");
    // attached: this boot's lines only, not the v1 ticks before the update; the new command's exit code
    expect(r.stdout).toContain("v2 says hello\nv2 done\n");
    expect(r.stdout).not.toContain("v1 ");
    expect(r.stderr).toContain("Run up-task done (exited (0))");
    expect(r.code).toBe(0);

    const after = (await row("up-task"))!;
    expect(after.id).toBe(before.id); // the same CVM, upgraded — not a new run
    expect(after).toMatchObject({ status: "stopped", run: { status: "done", status_message: "exited (0)" } });
    expect(await logsUntil("up-task", /v2 done\n/)).toMatch(/v2 says hello\nv2 done\n/);
  }, 180_000);

  test("Ctrl-C during an attached apply detaches (exit 0, how to reattach); the run goes on", async () => {
    writeFileSync(join(work, "int.dstack.yml"), ticks("int-task", "tick"));
    const p = Bun.spawn([join(DIST, "dstack"), "--prefix", inst!.prefix, "apply", "-f", "int.dstack.yml", "-y"], {
      cwd: work,
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, NO_COLOR: "1" },
    });
    const reader = p.stdout.getReader();
    let out = "";
    const deadline = Date.now() + 90_000;
    while (!/tick 2\n/.test(out) && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      out += new TextDecoder().decode(value);
    }
    expect(out).toMatch(/tick 1\ntick 2\n/); // attached: the run's lines arrive
    p.kill("SIGINT");
    const [code, err] = await Promise.all([p.exited, new Response(p.stderr).text()]);
    expect(err).toContain("Detached. The run goes on; reattach with `dstack attach int-task --logs`");
    expect(code).toBe(0);

    // the run goes on: still running, and its output keeps growing after the detach
    expect((await row("int-task"))!).toMatchObject({ status: "running", run: { status: "running" } });
    const seen = Number(/tick (\d+)\n(?![\s\S]*tick \d)/.exec((await dstack(["logs", "int-task"])).stdout)?.[1] ?? 0);
    const later = await logsUntil("int-task", new RegExp(`tick ${seen + 3}\\n`));
    expect(later).toContain(`tick ${seen + 3}\n`);
    expect((await dstack(["stop", "int-task", "-y"])).code).toBe(0);
    expect((await row("int-task"))!).toMatchObject({ status: "stopped", run: { status: "terminated", status_message: "stopped" } });
  }, 180_000);
});
