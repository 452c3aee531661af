import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { replayRtmrs } from "../../src/core/tdx/eventlog.ts";
import { measuredBoot } from "../../src/sim/guest-agent/attestation/measured-boot.ts";
import type { GuestVmInfo } from "../../src/sim/guest-agent/types.ts";

const vm: GuestVmInfo = {
  appId: "aa".repeat(20),
  instanceId: "bb".repeat(20),
  composeHash: "cc".repeat(32),
  appCompose: JSON.stringify({ name: "x" }),
  osImageHash: "dd".repeat(32),
  deviceId: "ee".repeat(32),
  vmName: "x",
  vcpu: 2,
  memoryMb: 1024,
};

describe("the simulated measured boot", () => {
  test("RTMR3 holds dstack's runtime events in the guest's order, with their payloads", () => {
    const b = measuredBoot(vm, "02".repeat(33));
    const rt = b.events.filter((e) => e.imr === 3);
    expect(rt.map((e) => e.event)).toEqual([
      "system-preparing",
      "app-id",
      "compose-hash",
      "instance-id",
      "boot-mr-done",
      "os-image-hash",
      "key-provider",
      "storage-fs",
      "system-ready",
    ]);
    const payload = (n: string) => rt.find((e) => e.event === n)!.event_payload;
    expect(payload("app-id")).toBe(vm.appId);
    expect(payload("compose-hash")).toBe(vm.composeHash);
    expect(payload("instance-id")).toBe(vm.instanceId);
    expect(payload("os-image-hash")).toBe(vm.osImageHash);
    expect(JSON.parse(b.keyProviderInfo)).toEqual({ name: "kms", id: "02".repeat(33) });
    expect(Buffer.from(payload("key-provider"), "hex").toString()).toBe(b.keyProviderInfo);
    expect(JSON.parse(b.vmConfig)).toEqual({ os_image_hash: vm.osImageHash, cpu_count: 2, memory_size: 1024 * 1024 * 1024 });
  });

  test("RTMR0..2 and MRTD follow the image: same image, same values; another image, others", () => {
    const a = replayRtmrs(measuredBoot(vm, "").events);
    const sameImage = replayRtmrs(measuredBoot({ ...vm, appId: "11".repeat(20), composeHash: "22".repeat(32) }, "").events);
    const otherImage = measuredBoot({ ...vm, osImageHash: "99".repeat(32) }, "");
    expect(sameImage.slice(0, 3)).toEqual(a.slice(0, 3));
    expect(sameImage[3]).not.toBe(a[3]);
    expect(replayRtmrs(otherImage.events)[0]).not.toBe(a[0]);
    expect(otherImage.mrTd).not.toBe(measuredBoot(vm, "").mrTd);
  });

  test("without the KMS: no os-image-hash event and key provider none; an init script is measured", () => {
    const b = measuredBoot({ ...vm, appCompose: JSON.stringify({ kms_enabled: false, init_script: "echo hi" }) }, "02".repeat(33));
    const names = b.events.map((e) => e.event);
    expect(names).not.toContain("os-image-hash");
    expect(JSON.parse(b.keyProviderInfo)).toEqual({ name: "none", id: "" });
    const init = b.events.find((e) => e.event === "init-script-hash")!;
    expect(init.event_payload).toBe(createHash("sha256").update("echo hi").digest("hex"));
    expect(names.indexOf("init-script-hash")).toBe(names.indexOf("compose-hash") + 1);
  });
});
