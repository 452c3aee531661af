/**
 * Issue 13 item 10: the app client cannot delete the host's KMS CVM. dstackup marks it in its
 * user_config; `dstack stop`, `rm` (even -f, even by a one-character id prefix) and `upgrade`
 * refuse it with exit 4 pointing at dstackup, locally and through the VMM's URL as a remote
 * client would; `ps` shows it as a system VM; an install from before the marker gets it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type SimInstall, simInstall } from "../../helpers/sim-install.ts";

let s: SimInstall;
let kmsId: string;
beforeAll(async () => {
  s = await simInstall("dstack-system-vm", { inProcess: true });
  const vms = (await s.vmm("Status", { brief: true })) as { vms: { id: string; name: string }[] };
  kmsId = vms.vms.find((v) => v.name === "dstack-kms")!.id;
}, 90_000);
afterAll(async () => {
  await s.destroy();
});

const kmsStatus = async () => ((await s.vmm("GetInfo", { id: kmsId })) as { info: { status: string } }).info.status;

describe("item 10: the KMS CVM is a system VM", () => {
  test("stop, rm -f, rm by id prefix and upgrade refuse it (exit 4, naming dstackup), locally and remotely; it keeps running", async () => {
    for (const args of [
      ["stop", "dstack-kms"],
      ["stop", "-f", kmsId.slice(0, 1)],
      ["rm", "-f", "dstack-kms"],
      ["rm", kmsId.slice(0, 1)],
      ["upgrade", "dstack-kms", "busybox:1"],
    ]) {
      for (const via of [s.dstack, s.remote]) {
        const r = await via(args);
        expect({ args, code: r.code }).toEqual({ args, code: 4 });
        expect(r.stderr).toContain("is this host's KMS CVM, a system VM: dstack does not");
        expect(r.stderr).toContain("dstackup");
      }
    }
    expect(await kmsStatus()).toBe("running");
  }, 60_000);

  test("several VMs named with the KMS among them: nothing is done to any", async () => {
    const run = await s.dstack(["run", "busybox:1", "-n", "beside", "-q"]);
    expect(run.code).toBe(0);
    const r = await s.dstack(["rm", "-f", "beside", "dstack-kms"]);
    expect(r.code).toBe(4);
    const vms = (await s.vmm("Status", { brief: true })) as { vms: { name: string }[] };
    expect(vms.vms.map((v) => v.name).sort()).toEqual(["beside", "dstack-kms"]);
    expect((await s.dstack(["rm", "-f", "beside"])).code).toBe(0);
  }, 60_000);

  test("ps shows it as a system VM; a KMS CVM without the marker gets it at the next install", async () => {
    const ps = await s.dstack(["ps"]);
    expect(ps.stdout).toMatch(/^dstack-kms \(system\)\s/m);
    await s.vmm("UpdateVm", { id: kmsId, user_config: "{}" });
    expect((await s.dstack(["stop", "dstack-kms"])).code).not.toBe(4); // unmarked: dstack cannot tell
    expect((await s.reinstall()).code).toBe(0);
    expect((await s.dstack(["rm", "-f", "dstack-kms"])).code).toBe(4);
  }, 90_000);
});
