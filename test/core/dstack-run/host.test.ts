import { describe, expect, test } from "bun:test";
import { ignored, parseIgnore } from "../../../src/core/dstack-run/files/ignore.ts";
import { hostOffers, matchingGpus } from "../../../src/core/dstack-run/offers.ts";
import { keyValueTable, NO_OFFERS, offersTable } from "../../../src/core/dstack-run/plan-table.ts";
import { appLine, appLines } from "../../../src/core/dstack-run/run-log.ts";
import { bootCount, currentBoot, endedButRunning, exitFromLog, runState } from "../../../src/core/dstack-run/run-status.ts";
import { chooseResources } from "../../../src/core/dstack-run/sizing.ts";
import { defaultResources, parseResources } from "../../../src/core/dstack-yml/resources/resources.ts";
import { Issues } from "../../../src/core/dstack-yml/yaml/issues.ts";

const res = (v: Record<string, unknown>) => parseResources(v, ["resources"], new Issues())!;
const meta = { max_cvm_number: 10, max_allocable_vcpu: 16, max_allocable_memory_in_mb: 65536 };
const gpus = [
  { slot: "18:00.0", product_id: "10de:2330", description: "NVIDIA H100 80GB HBM3", is_free: true },
  { slot: "2a:00.0", product_id: "10de:2330", description: "NVIDIA H100 80GB HBM3", is_free: true },
  { slot: "3a:00.0", product_id: "10de:20b5", description: "NVIDIA A100 80GB", is_free: false },
];
const facts = (vms: { vcpu: number; memory: number }[] = []) => ({
  backend: "vmm (local)",
  meta,
  vms: vms.map((c) => ({ status: "running", configuration: c as never })),
  gpus,
  guestImage: "dstack-0.5.5",
});

describe("sizing: the least each range allows", () => {
  test("defaults", () => expect(chooseResources(defaultResources())).toEqual({ vcpu: 2, memoryMiB: 8192, diskGiB: 100, gpus: 0 }));
  test("exact values, ranges, max-only ranges", () => {
    expect(chooseResources(res({ cpu: 16, memory: "32GB", disk: "150GB", gpu: "H100:2" }))).toEqual({
      vcpu: 16,
      memoryMiB: 32768,
      diskGiB: 150,
      gpus: 2,
    });
    expect(chooseResources(res({ cpu: "..64", memory: "..4GB", gpu: "1..8" }))).toEqual({
      vcpu: 2,
      memoryMiB: 4096,
      diskGiB: 100,
      gpus: 1,
    });
    expect(chooseResources(res({ memory: "512MB" })).memoryMiB).toBe(512);
  });
});

describe("offers of a host", () => {
  test("a CPU run: one offer, the smallest that fits", () => {
    const o = hostOffers(facts(), defaultResources(), "least", 1);
    expect(o).toEqual([
      {
        backend: "vmm (local)",
        resources: { vcpu: 2, memoryMiB: 8192, diskGiB: 100, gpus: 0 },
        gpuSlots: [],
        instanceType: "dstack-0.5.5",
        available: true,
      },
    ]);
  });
  test("what running CVMs hold is not free", () => {
    const [o] = hostOffers(facts([{ vcpu: 12, memory: 60000 }]), res({ cpu: 8 }), "least", 1);
    expect(o!.available).toBe(false);
    expect(o!.reason).toBe("8 vCPUs asked, 4 free; 8192 MiB asked, 5536 MiB free");
  });
  test("GPUs by name, free ones only, one offer per count", () => {
    expect(matchingGpus(res({ gpu: "h100" }).gpu, gpus).map((g) => g.slot)).toEqual(["18:00.0", "2a:00.0"]);
    expect(matchingGpus(res({ gpu: "A100" }).gpu, gpus)).toEqual([]);
    const o = hostOffers(facts(), res({ gpu: "H100" }), "most", 50);
    expect(o.map((x) => [x.resources.gpus, x.gpuSlots, x.available])).toEqual([
      [1, ["18:00.0"], true],
      [2, ["18:00.0", "2a:00.0"], true],
    ]);
    expect(o[0]!.resources.vcpu).toBe(16);
    const none = hostOffers(facts(), res({ gpu: "A100:1" }), "least", 1);
    expect(none[0]!.available).toBe(false);
    expect(none[0]!.reason).toContain("1 matching GPUs asked, 0 free");
  });
  test("no guest image, no offer", () => {
    expect(hostOffers({ ...facts(), guestImage: undefined }, defaultResources(), "least", 1)[0]!.reason).toBe("the VMM has no guest image");
  });
});

describe("tables", () => {
  test("the key/value plan table", () => {
    expect(
      keyValueTable(
        [
          ["Host", "unix:/x"],
          ["Max duration", "off"],
        ],
        false,
      ),
    ).toBe(" Host          unix:/x\n Max duration  off\n");
  });
  test("the offers table, and dstackai's no-offers line", () => {
    const o = hostOffers(facts(), res({ gpu: "H100:2" }), "least", 1);
    expect(offersTable(o, { color: false, dim: true })).toBe(
      " #  BACKEND      RESOURCES                            INSTANCE TYPE  PRICE\n" +
        " 1  vmm (local)  cpu=2 mem=8GB disk=100GB gpu=H100:2  dstack-0.5.5   -\n",
    );
    expect(offersTable([], { color: false, dim: true })).toBe(`${NO_OFFERS}\n`);
  });
});

describe("the run's status from the CVM and its exit line", () => {
  const vm = (status: string, boot_progress = "done") => ({ status, boot_progress, boot_error: "" });
  test("exit lines", () => {
    expect(exitFromLog("app-1  | hi\napp-1  | [dstack] exited (3)\n")).toEqual({
      code: 3,
      maxDuration: false,
      stopped: false,
      inactivity: false,
    });
    expect(exitFromLog("app-1 | [dstack] max_duration exceeded\napp-1 | [dstack] exited (143)")).toEqual({
      code: 143,
      maxDuration: true,
      stopped: false,
      inactivity: false,
    });
    expect(
      exitFromLog("app-1 | [dstack] no SSH session for 5s\napp-1 | [dstack] inactivity_duration exceeded\napp-1 | [dstack] exited (0)"),
    ).toEqual({
      code: 0,
      maxDuration: false,
      stopped: false,
      inactivity: true,
    });
    expect(exitFromLog("boot\n")).toBeUndefined();
  });
  test("dstackai's words", () => {
    expect(runState(vm("running"), "app-1 | [dstack] exited (0)")).toMatchObject({ status: "done", message: "exited (0)", exitCode: 0 });
    expect(runState(vm("running"), "app-1 | [dstack] exited (3)")).toMatchObject({ status: "failed", message: "exited (3)", exitCode: 3 });
    expect(runState(vm("running", "booting"), "")).toMatchObject({ status: "provisioning", finished: false });
    expect(runState(vm("running"), "")).toMatchObject({ status: "running", finished: false });
    expect(runState(vm("stopped"), "")).toMatchObject({ status: "terminated", message: "stopped" });
    expect(runState(vm("running"), "app-1 | [dstack] inactivity_duration exceeded\napp-1 | [dstack] exited (0)")).toMatchObject({
      status: "terminated",
      message: "terminated",
      finished: true,
      terminationReason: "inactivity_duration_exceeded",
    });
    expect(runState({ status: "running", boot_progress: "", boot_error: "denied" }, "")).toMatchObject({
      status: "failed",
      message: "error",
    });
  });
  test("only this boot counts: an exit line before the VM's last start says nothing of the run now", () => {
    const earlier = "\n===== boot @ 2026-12-01T12:00:00Z =====\napp-1 | [dstack] stopped\napp-1 | [dstack] exited (143)\n";
    const now = "\n===== boot @ 2026-12-01T12:05:00Z =====\napp-1 | v2\n";
    expect(exitFromLog(earlier)).toEqual({ code: 143, maxDuration: false, stopped: true, inactivity: false });
    expect(exitFromLog(earlier + now)).toBeUndefined();
    expect(currentBoot(earlier + now)).toBe("app-1 | v2\n");
    expect(bootCount(earlier + now)).toBe(2);
    expect(runState(vm("running"), earlier + now)).toMatchObject({ status: "running", finished: false });
    expect(runState(vm("running"), `${earlier + now}app-1 | [dstack] exited (0)\n`)).toMatchObject({ status: "done" });
  });
  test("a stop that ended the command is dstackai's stopped, not exited (143)", () => {
    expect(runState(vm("stopped"), "app-1 | [dstack] stopped\napp-1 | [dstack] exited (143)")).toMatchObject({
      status: "terminated",
      message: "stopped",
      exitCode: 143,
      terminationReason: "stopped_by_user",
    });
  });
  test("an ended run whose CVM still runs is shut down, unless it retries a failure", () => {
    const ended = runState(vm("running"), "app-1 | [dstack] exited (0)");
    const failed = runState(vm("running"), "app-1 | [dstack] exited (3)");
    expect(endedButRunning(vm("running"), ended, false)).toBe(true);
    expect(endedButRunning(vm("stopped"), ended, false)).toBe(false);
    expect(endedButRunning(vm("running"), runState(vm("running"), ""), false)).toBe(false);
    expect(endedButRunning(vm("running"), failed, false)).toBe(true);
    expect(endedButRunning(vm("running"), failed, true)).toBe(false);
    expect(endedButRunning(vm("running"), ended, true)).toBe(true);
    // no exit line: stopped by a power cut, nothing to shut down
    expect(endedButRunning(vm("running"), runState({ status: "running", boot_progress: "", boot_error: "denied" }, ""), false)).toBe(false);
  });
  test("the run's own lines, prefixes removed", () => {
    expect(appLine("app-1  | hello")).toBe("hello");
    expect(appLine("app_1 | x")).toBe("x");
    expect(appLine("[dstack-vmm-sim] booting")).toBeUndefined();
    expect(appLines("boot\napp-1 | a\nother | b\napp-1 | c")).toBe("a\nc\n");
  });
});

describe(".gitignore / .dstackignore", () => {
  const rules = parseIgnore("# c\n*.log\n/build\nnode_modules/\n!keep.log\ndocs/**/*.tmp\n");
  const cases: [string, boolean, boolean][] = [
    ["a.log", false, true],
    ["sub/b.log", false, true],
    ["keep.log", false, false],
    ["build", true, true],
    ["src/build", true, false],
    ["node_modules", true, true],
    ["node_modules", false, false],
    ["docs/x/y.tmp", false, true],
    ["docs/y.tmp", false, true],
    ["main.py", false, false],
    [".git", true, true],
  ];
  for (const [rel, dir, want] of cases)
    test(`${rel}${dir ? "/" : ""} → ${want ? "ignored" : "kept"}`, () => expect(ignored(rules, rel, dir)).toBe(want));
});
