/**
 * Issue 14, item 8: `dstack logs -f` ends when what it follows ends, in our words: the VM removed
 * (exit 3, not found) or the VMM gone (exit 1, "closed the log stream"), never Bun's internals.
 * Against the compiled simulator, which the second test kills (that one with the compiled dstack).
 */
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { captureIo, runCli } from "../../helpers/cli.ts";
import { DIST } from "../../helpers/run.ts";
import { writeSimConfig } from "../../helpers/sim.ts";
import { until } from "../../helpers/until.ts";

const { dir, vmmToml } = writeSimConfig();
const sim = Bun.spawn([join(DIST, "dstack-vmm-sim"), "-c", vmmToml], { stdout: "ignore", stderr: "ignore" });
afterAll(() => sim.kill("SIGKILL"));
const host = `unix:${join(dir, "vmm.sock")}`;
const dstack = (args: string[]) =>
  Bun.spawn([join(DIST, "dstack"), "--host", host, ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
const finish = async (p: ReturnType<typeof dstack>) => ({
  code: await p.exited,
  stderr: await new Response(p.stderr).text(),
});

async function ready() {
  for (let i = 0; i < 200; i++) {
    if ((await dstack(["ps"]).exited) === 0) return;
    await Bun.sleep(25);
  }
  throw new Error("the simulator did not answer");
}

async function runVm(name: string) {
  const r = await finish(dstack(["run", "busybox", "-n", name, "--no-kms", "--guest-image", "dstack-0.5.5"]));
  expect(r.code).toBe(0);
}

test("rm -f of the VM being followed: logs -f stops, exit 3, saying it was removed", async () => {
  await ready();
  await runVm("followed");
  // in-process, so that the removal watch polls every 50 ms (the pollMs knob) instead of every second
  const io = captureIo();
  const logs = runCli("dstack", ["--host", host, "logs", "-f", "followed"], { io, knobs: { pollMs: 50 } });
  expect(await until(() => io.out.includes("\n"))).toBe(true); // it follows
  expect(await dstack(["rm", "-f", "followed"]).exited).toBe(0);
  const r = await Promise.race([logs, Bun.sleep(8000).then(() => ({ code: -1, stderr: "still following after 8 s" }))]);
  expect(r.stderr).toContain("VM followed (");
  expect(r.stderr).toContain("was removed: nothing more to follow");
  expect(r.code).toBe(3);
}, 30_000);

test("the VMM dies while logs -f follows: exit 1, in our words, no Bun internals", async () => {
  await runVm("orphan");
  const logs = dstack(["logs", "-f", "orphan"]);
  await Bun.sleep(300);
  sim.kill("SIGKILL");
  const r = await Promise.race([finish(logs), Bun.sleep(8000).then(() => ({ code: -1, stderr: "still following after 8 s" }))]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`the VMM at ${host} closed the log stream`);
  expect(r.stderr).not.toContain("For more information, pass");
  expect(r.stderr).not.toContain("verbose: true");
}, 30_000);
