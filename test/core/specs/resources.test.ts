import { describe, expect, test } from "bun:test";
import { NotFoundError, UsageError } from "../../../src/core/errors.ts";
import { parseDisk, parseGpu, parseMemory, parseVcpu, selectGpus, type VmmGpu } from "../../../src/core/specs/resources.ts";

function usageErr(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return e as UsageError;
  }
  throw new Error("expected a UsageError");
}

describe("--vcpu", () => {
  test("whole numbers 1-1024", () => {
    expect(parseVcpu("2")).toBe(2);
    expect(parseVcpu(" 16 ")).toBe(16);
    expect(parseVcpu(1024)).toBe(1024);
  });
  for (const bad of ["0", "-1", "1.5", "two", "", "1025", "2 cores", "0x10"]) {
    test(`rejects ${JSON.stringify(bad)}`, () => {
      const e = usageErr(() => parseVcpu(bad));
      expect(e.message).toContain(`invalid --vcpu ${JSON.stringify(bad)}`);
      expect(e.message).toContain("accepted: a whole number of vCPUs");
    });
  }
});

describe("--memory → MiB", () => {
  const good: [string, number][] = [
    ["2048", 2048],
    ["512M", 512],
    ["512MB", 512],
    ["512MiB", 512],
    ["512mb", 512],
    ["2G", 2048],
    ["2GB", 2048],
    ["2GiB", 2048],
    ["2 GiB", 2048],
    ["1.5G", 1536],
    ["0.5G", 512],
    [".25G", 256],
    ["1T", 1048576],
    ["1048576K", 1024],
    ["134217728B", 128],
  ];
  for (const [s, mib] of good) test(`${s} = ${mib} MiB`, () => expect(parseMemory(s)).toBe(mib));
  const bad: [string, RegExp][] = [
    ["", /not a size/],
    ["2X", /unknown unit "X"/],
    ["1.3M", /whole number/],
    ["1000K", /whole number of MiB/],
    ["32", /less than 64 MiB/],
    ["5T", /more than 4 TiB/],
    ["-1G", /not a size/],
    ["2 G B", /not a size/],
    ["1e3", /not a size/],
  ];
  for (const [s, re] of bad) {
    test(`rejects ${JSON.stringify(s)}`, () => {
      const e = usageErr(() => parseMemory(s));
      expect(e.message).toMatch(re);
      expect(e.message).toContain(`invalid --memory ${JSON.stringify(s)}`);
      expect(e.message).toContain("512MB, 2G");
    });
  }
});

describe("--disk → GiB", () => {
  const good: [string, number][] = [
    ["20", 20],
    ["20G", 20],
    ["20GB", 20],
    ["20GiB", 20],
    ["1T", 1024],
    ["1.5T", 1536],
    ["2048M", 2],
  ];
  for (const [s, gib] of good) test(`${s} = ${gib} GiB`, () => expect(parseDisk(s)).toBe(gib));
  for (const [s, re] of [
    ["0", /less than 1 GiB/],
    ["512M", /whole number of GiB/],
    ["1.5", /whole number of GiB/],
    ["100T", /more than 64 TiB/],
    ["big", /not a size/],
  ] as [string, RegExp][]) {
    test(`rejects ${s}`, () => {
      const e = usageErr(() => parseDisk(s, "--disk-size"));
      expect(e.message).toMatch(re);
      expect(e.message).toContain("invalid --disk-size");
      expect(e.message).toContain("20GB");
    });
  }
});

describe("--gpu", () => {
  test("forms", () => {
    expect(parseGpu("all")).toEqual({ kind: "all" });
    expect(parseGpu("ALL")).toEqual({ kind: "all" });
    expect(parseGpu("none")).toEqual({ kind: "none" });
    expect(parseGpu("0")).toEqual({ kind: "none" });
    expect(parseGpu("2")).toEqual({ kind: "count", count: 2 });
    expect(parseGpu("H100")).toEqual({ kind: "count", count: 1, model: "H100" });
    expect(parseGpu("H100:2")).toEqual({ kind: "count", count: 2, model: "H100" });
    expect(parseGpu("18:00.0")).toEqual({ kind: "slots", slots: ["18:00.0"] });
    expect(parseGpu("0000:18:00.0, 2A:00.0")).toEqual({ kind: "slots", slots: ["0000:18:00.0", "2a:00.0"] });
  });
  for (const bad of ["", "H100:0", "H100:x", "H100:2:3", "100", "-1", "h 100", ":2"]) {
    test(`rejects ${JSON.stringify(bad)}`, () => {
      const e = usageErr(() => parseGpu(bad));
      expect(e.message).toContain(`invalid --gpu ${JSON.stringify(bad)}`);
      expect(e.message).toContain("MODEL:COUNT (H100, H100:2)");
    });
  }
  const gpus: VmmGpu[] = [
    { slot: "18:00.0", product_id: "10de:2335", description: "NVIDIA H100 80GB", is_free: true },
    { slot: "2a:00.0", product_id: "10de:2335", description: "NVIDIA H100 80GB", is_free: false },
    { slot: "3a:00.0", product_id: "10de:20b5", description: "NVIDIA A100 80GB", is_free: true },
  ];
  test("selectGpus → VMM GpuConfig", () => {
    expect(selectGpus(parseGpu("none"), gpus)).toBeUndefined();
    expect(selectGpus(parseGpu("all"), gpus)).toEqual({ gpus: [], attach_mode: "all" });
    expect(selectGpus(parseGpu("H100"), gpus)).toEqual({ gpus: [{ slot: "18:00.0" }], attach_mode: "listed" });
    expect(selectGpus(parseGpu("2"), gpus)).toEqual({ gpus: [{ slot: "18:00.0" }, { slot: "3a:00.0" }], attach_mode: "listed" });
    expect(selectGpus(parseGpu("a100"), gpus)).toEqual({ gpus: [{ slot: "3a:00.0" }], attach_mode: "listed" });
    expect(selectGpus(parseGpu("2a:00.0"), gpus)).toEqual({ gpus: [{ slot: "2a:00.0" }], attach_mode: "listed" });
    expect(() => selectGpus(parseGpu("H100:2"), gpus)).toThrow(NotFoundError);
    expect(() => selectGpus(parseGpu("H100:2"), gpus)).toThrow(/asked for 2 free H100 GPUs, this host has 1/);
    expect(() => selectGpus(parseGpu("ff:00.0"), gpus)).toThrow(/no GPU at ff:00.0/);
  });
});
