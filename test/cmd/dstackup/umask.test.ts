/** Daemons make their files with their own umask, not the installer's (issue 13 item 8). */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DIST, runBin, spawnCapture } from "../../helpers/run.ts";
import { simInstallFlags } from "../../helpers/sim-install.ts";

const prefix = mkdtempSync(join(tmpdir(), "dstackup-umask-"));
afterAll(async () => {
  await runBin("dstackup", ["destroy", "--purge", "-y", "--prefix", prefix]);
}, 60_000);

test("installed under umask 000, the simulator's VM dirs are 0755 and its logs 0644", async () => {
  const install = [join(DIST, "dstackup"), "install", ...simInstallFlags(prefix, { runtime: "auto", timeout: 60 })];
  const r = await spawnCapture(["sh", "-c", 'umask 000; exec "$@"', "sh", ...install]);
  expect(r.code).toBe(0);
  const vmRoot = join(prefix, "var/lib/dstack/vm");
  const vms = readdirSync(vmRoot).filter((n) => !n.startsWith("."));
  expect(vms.length).toBeGreaterThan(0); // the KMS CVM
  const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);
  for (const id of vms) {
    expect(mode(join(vmRoot, id))).toBe("755");
    expect(mode(join(vmRoot, id, "shared"))).toBe("755");
    expect(mode(join(vmRoot, id, "serial.log"))).toBe("644");
  }
}, 120_000);
