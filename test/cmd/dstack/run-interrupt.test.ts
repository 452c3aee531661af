/**
 * Issue 14, item 9: Ctrl-C (SIGINT) while `dstack run` waits for the boot says, in one line, that
 * the VM was created and keeps booting and how to follow it, and exits 130. Against the compiled
 * simulator with slow boot steps, so the wait is long enough to interrupt.
 */
import { afterAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DIST } from "../../helpers/run.ts";
import { writeSimConfig } from "../../helpers/sim.ts";

const { dir, vmmToml } = writeSimConfig();
writeFileSync(vmmToml, readFileSync(vmmToml, "utf8").replace("boot_step_ms = 2", "boot_step_ms = 3000"));
const sim = Bun.spawn([join(DIST, "dstack-vmm-sim"), "-c", vmmToml], { stdout: "ignore", stderr: "ignore" });
afterAll(() => sim.kill("SIGKILL"));

test("SIGINT during the boot wait: exit 130 and one line saying the VM keeps booting", async () => {
  const host = `unix:${join(dir, "vmm.sock")}`;
  const dstack = (args: string[]) =>
    Bun.spawn([join(DIST, "dstack"), "--host", host, ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
  for (let i = 0; i < 200; i++) {
    const p = dstack(["ps"]);
    if ((await p.exited) === 0) break;
    await Bun.sleep(25);
  }
  const run = dstack(["run", "busybox", "-n", "slow", "--no-kms", "--guest-image", "dstack-0.5.5"]);
  // wait until it waits for the boot (it says so on stderr), then interrupt
  const reader = run.stderr.getReader();
  let err = "";
  while (!err.includes("created VM")) {
    const { value, done } = await reader.read();
    if (done) break;
    err += new TextDecoder().decode(value);
  }
  // a user's Ctrl-C comes long after the line; give the runtime a moment to arm its handler (boot steps take 3 s)
  await Bun.sleep(150);
  run.kill("SIGINT");
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    err += new TextDecoder().decode(value);
  }
  expect(await run.exited).toBe(130);
  expect(err).toContain("interrupted: VM slow (");
  expect(err).toContain("was created and keeps booting; follow it with `dstack logs -f slow`");
  const ps = dstack(["ps", "-a", "--json"]);
  const vms = JSON.parse(await new Response(ps.stdout).text()) as { name: string }[];
  expect(vms.map((v) => v.name)).toEqual(["slow"]);
}, 30_000);
