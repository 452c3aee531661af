/**
 * dstack stop / restart: a guest shutdown waited for until the VM is down; the
 * power is cut when the guest takes longer than --timeout, refuses the
 * shutdown, or with --force.
 */
import { describe, expect, test } from "bun:test";
import { stopVm } from "../../src/client/graceful-stop.ts";
import type { VmmClient } from "../../src/core/vmm/client.ts";
import type { VmInfo } from "../../src/core/vmm/types.ts";

function fakeVmm(o: { downAfterPolls: number; refuseShutdown?: boolean; downAs?: string }) {
  const calls: string[] = [];
  let polls = 0;
  let status = "running";
  const client = {
    shutdownVm: async () => {
      calls.push("shutdown");
      if (o.refuseShutdown) throw new Error("guest agent not reachable");
      status = "stopping";
    },
    stopVm: async () => {
      calls.push("stop");
      status = "stopped";
    },
    status: async () => {
      polls++;
      if (status === "stopping" && polls >= o.downAfterPolls) status = o.downAs ?? "stopped";
      return { vms: [{ id: "v1", status }] };
    },
  } as unknown as VmmClient;
  return { client, calls, polls: () => polls };
}

const vm = { id: "v1", name: "web", status: "running" } as VmInfo;

describe("graceful stop", () => {
  test("a guest that powers off in time: shutdown, waited for, no power cut", async () => {
    const f = fakeVmm({ downAfterPolls: 3 });
    expect(await stopVm(f.client, vm, { force: false, timeoutMs: 5000, timeoutText: "5s" })).toBe("stopped");
    expect(f.calls).toEqual(["shutdown"]);
    expect(f.polls()).toBe(3);
  });

  test("a guest slower than --timeout: the power is cut and the report says so", async () => {
    const f = fakeVmm({ downAfterPolls: 1_000_000 });
    const t0 = performance.now();
    expect(await stopVm(f.client, vm, { force: false, timeoutMs: 200, timeoutText: "200ms" })).toBe(
      "stopped (no shutdown within 200ms: power cut)",
    );
    expect(performance.now() - t0).toBeGreaterThanOrEqual(200);
    expect(f.calls).toEqual(["shutdown", "stop"]);
  });

  test("a refused shutdown falls back to the power cut; --force and a VM not running skip the shutdown", async () => {
    const r = fakeVmm({ downAfterPolls: 1, refuseShutdown: true });
    expect(await stopVm(r.client, vm, { force: false, timeoutMs: 1000, timeoutText: "1s" })).toContain("power cut");
    expect(r.calls).toEqual(["shutdown", "stop"]);
    const f = fakeVmm({ downAfterPolls: 1 });
    expect(await stopVm(f.client, vm, { force: true, timeoutMs: 1000, timeoutText: "1s" })).toBe("stopped");
    expect(f.calls).toEqual(["stop"]);
    const e = fakeVmm({ downAfterPolls: 1 });
    expect(await stopVm(e.client, { ...vm, status: "exited" }, { force: false, timeoutMs: 1000, timeoutText: "1s" })).toBe("stopped");
    expect(e.calls).toEqual(["stop"]);
  });

  test("a guest that went down but is still started to the VMM (exited): StopVm, so [cvm.auto_restart] does not boot it again", async () => {
    const f = fakeVmm({ downAfterPolls: 2, downAs: "exited" });
    expect(await stopVm(f.client, vm, { force: false, timeoutMs: 5000, timeoutText: "5s" })).toBe("stopped");
    expect(f.calls).toEqual(["shutdown", "stop"]);
  });
});
