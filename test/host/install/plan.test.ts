/** planInstall in-process: what preflight refuses before anything is written (issue 13 item 6). */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type InstallFlags, planInstall } from "../../../src/host/install/plan.ts";
import { blocking } from "../../../src/host/install/preflight.ts";
import { treeHash } from "../../helpers/tree.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function simulated(over: Partial<InstallFlags> = {}): InstallFlags {
  const prefix = mkdtempSync(join(tmpdir(), "plan-"));
  dirs.push(prefix);
  const base = 21000 + Math.floor(Math.random() * 9000);
  return {
    prefix,
    platform: "auto",
    simulate: true,
    qemu: "/usr/bin/qemu-system-x86_64",
    dashboardPort: base,
    authPort: base + 1,
    hostApiPort: 10000,
    kmsPort: 11000 + Math.floor(Math.random() * 8000),
    kmsImage: "dstacktee/dstack-kms:0.5.11",
    noKms: false,
    allowUnpinnedImage: false,
    keyProviderPort: 3443,
    serviceManager: "detached",
    ...over,
  };
}

async function refusals(flags: InstallFlags): Promise<string[]> {
  const before = treeHash(flags.prefix!);
  const plan = await planInstall(flags);
  expect(treeHash(flags.prefix!)).toBe(before);
  return blocking(plan.checks).map((c) => `${c.name}: ${c.detail}`);
}

describe("install preflight refuses what it would otherwise ignore", () => {
  test("a simulated install with no flags passes, generating its guest image", async () => {
    const flags = simulated();
    expect(await refusals(flags)).toEqual([]);
    expect((await planInstall(flags)).createImage).toBe("dstack-sim-0.5.5");
  });

  test("--simulate --image NAME: a named image that is not there is refused, not generated", async () => {
    const flags = simulated({ image: "no-such-image" });
    const plan = await planInstall(flags);
    expect(plan.createImage).toBeUndefined();
    const failed = blocking(plan.checks);
    expect(failed.map((c) => c.name)).toEqual(["image"]);
    expect(failed[0]!.detail).toContain("image 'no-such-image' not found in");
    expect(failed[0]!.fix).toMatch(/^leave out --image \(--simulate generates a simulated guest image\), or pull it with/);
  });

  test("--simulate --vmm-bin / --supervisor-bin: refused, they would not be used", async () => {
    expect(await refusals(simulated({ vmmBin: "/nonexistent" }))).toEqual([
      "binaries: --vmm-bin /nonexistent: not used with --simulate (the simulated VMM is this program)",
    ]);
    expect(await refusals(simulated({ vmmBin: "/bin/true", supervisorBin: "/bin/true" }))).toEqual([
      "binaries: --vmm-bin /bin/true and --supervisor-bin /bin/true: not used with --simulate (the simulated VMM is this program)",
    ]);
  });

  test("--build-from-source with --vmm-bin: refused, the build's binaries would not run", async () => {
    const flags = simulated({
      simulate: false,
      vmmBin: "/nonexistent",
      buildFromSource: { repo: "https://github.com/Dstack-TEE/dstack", ref: "next" },
    });
    const plan = await planInstall(flags);
    const binaries = plan.checks.find((c) => c.name === "binaries")!;
    expect(binaries.ok).toBe(false);
    expect(binaries.detail).toBe("--vmm-bin /nonexistent with --build-from-source, which builds them");
  });
});
