/**
 * Real systemd: install --simulate inside a booted Debian (systemd-nspawn),
 * check the units, boot an app, restart the VMM unit (VMs survive), re-run
 * install (nothing restarts), destroy --purge (back to the baseline).
 * Gated: root and DSTACK_E2E_SYSTEMD=1 (.ci/run sets it).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ensureRootfs, Machine } from "../../scripts/e2e/nspawn.ts";
import { DIST } from "../helpers/run.ts";

// Asked for (DSTACK_E2E_SYSTEMD=1, as .ci/run does) as root, it runs: a missing systemd-nspawn then fails the test, it does not skip it.
const enabled = process.env.DSTACK_E2E_SYSTEMD === "1" && process.getuid?.() === 0;
const P = { dashboard: "19480", auth: "19401", kms: "19443", app: "19481" };
const INSTALL = [
  "/opt/dstack/dstackup",
  "install",
  "--simulate",
  "--dashboard-port",
  P.dashboard,
  "--auth-port",
  P.auth,
  "--kms-port",
  P.kms,
  "--timeout",
  "60",
];

describe.if(enabled)("real systemd (systemd-nspawn)", () => {
  let m: Machine;
  let baselineUnits = "";
  let baselineTree = "";
  const tree = async () =>
    (
      await m.exec([
        "sh",
        "-c",
        "find /etc/dstack /var/lib/dstack /run/dstack /usr/local /etc/systemd/system 2>/dev/null | sort | xargs -r ls -ld --time-style=+ 2>/dev/null | awk '{print $1, $NF}'",
      ])
    ).stdout;
  const units = async () => (await m.exec(["systemctl", "list-unit-files", "--no-legend", "--no-pager", "dstack*"])).stdout;
  const since = async (u: string) =>
    (await m.exec(["systemctl", "show", "-p", "ActiveEnterTimestampMonotonic", "--value", u])).stdout.trim();

  beforeAll(async () => {
    const rootfs = await ensureRootfs((s) => process.stderr.write(`e2e: ${s}\n`));
    m = await Machine.boot(rootfs, [[DIST, "/opt/dstack"]]);
    baselineUnits = await units();
    baselineTree = await tree();
  }, 600_000);

  afterAll(async () => {
    await m?.stop();
  }, 60_000);

  test("install --simulate registers, enables and starts both units", async () => {
    const r = await m.exec(INSTALL);
    expect(r.stderr).toContain("[ok]");
    expect(r.code).toBe(0);
    for (const u of ["dstack-vmm", "dstack-auth"]) {
      expect((await m.exec(["systemctl", "is-active", `${u}.service`])).stdout.trim()).toBe("active");
      expect((await m.exec(["systemctl", "is-enabled", `${u}.service`])).stdout.trim()).toBe("enabled");
    }
    const st = await m.exec(["/opt/dstack/dstackup", "status", "--json"]);
    expect(st.code).toBe(0);
    expect(JSON.parse(st.stdout).healthy).toBe(true);
  }, 180_000);

  test("dstack run boots an app; restarting the VMM unit keeps it", async () => {
    const run = await m.exec(["/opt/dstack/dstack", "run", "nginx", "-n", "web", "-p", `${P.app}:80`, "--json"]);
    expect(run.code).toBe(0);
    const before = JSON.parse((await m.exec(["/opt/dstack/dstack", "ps", "--json"])).stdout) as { name: string }[];
    expect(before.map((v) => v.name)).toContain("web");
    expect((await m.exec(["systemctl", "restart", "dstack-vmm.service"])).code).toBe(0);
    let after: { name: string; status: string }[] = [];
    for (let i = 0; i < 100; i++) {
      const ps = await m.exec(["/opt/dstack/dstack", "ps", "-a", "--json"]);
      if (ps.code === 0) {
        after = JSON.parse(ps.stdout);
        if (after.some((v) => v.name === "web" && v.status === "running")) break;
      }
      await Bun.sleep(200);
    }
    expect(after.find((v) => v.name === "web")?.status).toBe("running");
  }, 180_000);

  test("a second install changes nothing and restarts nothing", async () => {
    const a = [await since("dstack-vmm.service"), await since("dstack-auth.service")];
    const r = await m.exec(INSTALL);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("no change");
    expect([await since("dstack-vmm.service"), await since("dstack-auth.service")]).toEqual(a);
  }, 180_000);

  test("destroy --purge returns the machine to its baseline", async () => {
    const r = await m.exec(["/opt/dstack/dstackup", "destroy", "--purge", "-y"]);
    expect(r.code).toBe(0);
    expect(await units()).toBe(baselineUnits);
    expect(await tree()).toBe(baselineTree);
  }, 180_000);
});
