import { describe, expect, test } from "bun:test";
import { formatCpu, parseCpu } from "../../../../src/core/dstack-yml/resources/cpu.ts";
import { formatGpu, parseGpuSpec } from "../../../../src/core/dstack-yml/resources/gpu.ts";
import { formatMemory, formatMemoryRange, parseMemoryGB, parseMemoryRange, pyG } from "../../../../src/core/dstack-yml/resources/memory.ts";
import { formatRange, parseCountRange } from "../../../../src/core/dstack-yml/resources/range.ts";
import { defaultResources, formatResources, parseResources } from "../../../../src/core/dstack-yml/resources/resources.ts";
import { Issues } from "../../../../src/core/dstack-yml/yaml/issues.ts";
import { grammarError } from "../../../helpers/grammar-error.ts";

describe("Range", () => {
  test("a bare value is exact", () => expect(parseCountRange("16")).toEqual({ min: 16, max: 16 }));
  test("an int is exact", () => expect(parseCountRange(16)).toEqual({ min: 16, max: 16 }));
  test("a..b, a.., ..b", () => {
    expect(parseCountRange("1..8")).toEqual({ min: 1, max: 8 });
    expect(parseCountRange("2..")).toEqual({ min: 2 });
    expect(parseCountRange("..64")).toEqual({ max: 64 });
  });
  test("spaces are removed", () => expect(parseCountRange(" 1 .. 8 ")).toEqual({ min: 1, max: 8 }));
  test("the mapping form", () => expect(parseCountRange({ min: 4 })).toEqual({ min: 4 }));
  test("..", () => expect(grammarError(() => parseCountRange(".."))).toBe("Invalid empty range: .."));
  test("min > max", () => expect(grammarError(() => parseCountRange("8..2"))).toBe("Invalid range order"));
  test("printed forms", () => {
    for (const s of ["4", "1..8", "2..", "..64"]) expect(formatRange(parseCountRange(s), String)).toBe(s);
  });
});

describe("Memory (GB, binary)", () => {
  const cases: [unknown, number][] = [
    ["8GB", 8],
    ["1TB", 1024],
    ["512MB", 0.5],
    ["300Gb", 300],
    ["24", 24],
    [16, 16],
    ["1.5 GB", 1.5],
  ];
  for (const [v, gb] of cases) test(`${JSON.stringify(v)} = ${gb}GB`, () => expect(parseMemoryGB(v)).toBe(gb));
  test("16GiB and 16G are rejected as dstackai rejects them", () => {
    expect(grammarError(() => parseMemoryGB("16GiB"))).toBe("could not convert string to float: '16gib'");
    expect(grammarError(() => parseMemoryGB("16G"))).toBe("could not convert string to float: '16g'");
  });
  test("printed {:g}GB", () => {
    expect(formatMemory(0.5)).toBe("0.5GB");
    expect(formatMemory(1024)).toBe("1024GB");
    expect(formatMemory(8)).toBe("8GB");
    expect(formatMemoryRange(parseMemoryRange("1TB.."))).toBe("1024GB..");
    expect(formatMemoryRange(parseMemoryRange("16GB..24GB"))).toBe("16GB..24GB");
  });
  test("pyG matches Python's format(x, 'g')", () => {
    expect(pyG(1e6)).toBe("1e+06");
    expect(pyG(123456)).toBe("123456");
    expect(pyG(1234567)).toBe("1.23457e+06");
    expect(pyG(0.0001)).toBe("0.0001");
    expect(pyG(0.00001)).toBe("1e-05");
    expect(pyG(1 / 3)).toBe("0.333333");
  });
});

describe("cpu", () => {
  const cases: [unknown, object, string][] = [
    ["x86:16", { arch: "x86", count: { min: 16, max: 16 } }, "x86:16"],
    ["arm:8..", { arch: "arm", count: { min: 8 } }, "arm:8.."],
    ["16:X86", { arch: "x86", count: { min: 16, max: 16 } }, "x86:16"],
    ["..64", { count: { max: 64 } }, "..64"],
    [8, { count: { min: 8, max: 8 } }, "8"],
    ["52..", { count: { min: 52 } }, "52.."],
    [{ min: 4 }, { count: { min: 4 } }, "4.."],
    [{ arch: "arm", count: "2..4" }, { arch: "arm", count: { min: 2, max: 4 } }, "arm:2..4"],
  ];
  for (const [v, spec, printed] of cases) {
    test(JSON.stringify(v), () => {
      expect(parseCpu(v)).toEqual(spec as never);
      expect(formatCpu(parseCpu(v))).toBe(printed);
    });
  }
  test("conflicts and bad arch", () => {
    expect(grammarError(() => parseCpu("x86:arm"))).toBe("CPU spec arch conflict");
    expect(grammarError(() => parseCpu("2:4"))).toBe("CPU spec count conflict");
    expect(grammarError(() => parseCpu("riscv:4"))).toContain("Invalid CPU architecture: riscv");
  });
});

describe("gpu (dstackai's table)", () => {
  const cases: [unknown, object][] = [
    ["A100", { name: ["A100"], count: { min: 1 } }],
    ["A100:80GB:2", { name: ["A100"], memory: { min: 80, max: 80 }, count: { min: 2, max: 2 } }],
    ["24GB..", { memory: { min: 24 }, count: { min: 1 } }],
    ["H100:8", { name: ["H100"], count: { min: 8, max: 8 } }],
    ["nvidia:16GB", { vendor: "nvidia", memory: { min: 16, max: 16 }, count: { min: 1 } }],
    ["A10G,A100:1..2", { name: ["A10G", "A100"], count: { min: 1, max: 2 } }],
    ["80GB:8", { memory: { min: 80, max: 80 }, count: { min: 8, max: 8 } }],
    ["amd:MI300X:4", { vendor: "amd", name: ["MI300X"], count: { min: 4, max: 4 } }],
    ["tpu:v5litepod-8", { vendor: "google", name: ["v5litepod-8"], count: { min: 1 } }],
    ["tt:n150:1", { vendor: "tenstorrent", name: ["n150"], count: { min: 1, max: 1 } }],
    ["0", { count: { min: 0, max: 0 } }],
    [8, { count: { min: 8, max: 8 } }],
    ["nvidia:4:16GB", { vendor: "nvidia", count: { min: 4, max: 4 }, memory: { min: 16, max: 16 } }],
    ["16GB..24GB", { memory: { min: 16, max: 24 }, count: { min: 1 } }],
    ["NVIDIA:1..8", { vendor: "nvidia", count: { min: 1, max: 8 } }],
    ["tpu-v5litepod-4", { name: ["v5litepod-4"], count: { min: 1 } }],
    [
      { memory: "24GB..", count: "1.." },
      { memory: { min: 24 }, count: { min: 1 } },
    ],
    [
      { name: ["A100", "H100"], count: 2 },
      { name: ["A100", "H100"], count: { min: 2, max: 2 } },
    ],
    [
      { vendor: "tt", compute_capability: 7.5 },
      { vendor: "tenstorrent", count: { min: 1 }, computeCapability: [7, 5] },
    ],
    [{ total_memory: "160GB.." }, { totalMemory: { min: 160 }, count: { min: 1 } }],
  ];
  for (const [v, spec] of cases) test(JSON.stringify(v), () => expect(parseGpuSpec(v)).toEqual(spec as never));
  test("conflicts", () => {
    expect(grammarError(() => parseGpuSpec("A100:H100"))).toBe("GPU spec name conflict");
    expect(grammarError(() => parseGpuSpec("nvidia:amd"))).toBe("GPU spec vendor conflict");
    expect(grammarError(() => parseGpuSpec("24GB:80GB"))).toBe("GPU spec memory conflict");
    expect(grammarError(() => parseGpuSpec("1:2"))).toBe("GPU spec count conflict");
  });
  test("an unknown mapping key", () => expect(grammarError(() => parseGpuSpec({ nmae: "A100" }))).toContain("unknown key nmae"));
  test("pretty form", () => {
    expect(formatGpu(parseGpuSpec("A100:80GB:2"))).toBe("A100:80GB:2");
    expect(formatGpu(parseGpuSpec("nvidia:24GB"))).toBe("nvidia:24GB:1..");
    expect(formatGpu(parseGpuSpec("24GB.."))).toBe("24GB..:1..");
    expect(formatGpu(defaultResources().gpu)).toBe("0..");
  });
});

describe("resources", () => {
  test("defaults print as dstackai prints them", () => {
    expect(formatResources(defaultResources())).toBe("cpu=2.. mem=8GB.. disk=100GB.. gpu=0..");
  });
  test("each field replaces its default; disk {size}; shm_size", () => {
    const issues = new Issues();
    const r = parseResources(
      { cpu: "x86:16", memory: "32GB..", gpu: "H100:8", disk: { size: "500GB.." }, shm_size: "16GB" },
      ["resources"],
      issues,
    );
    expect(issues.errors).toEqual([]);
    expect(formatResources(r!)).toBe("cpu=x86:16 mem=32GB.. disk=500GB.. gpu=H100:8 shm_size=16GB");
  });
  test("errors carry their path; unknown keys suggest", () => {
    const issues = new Issues();
    parseResources({ gpus: 1, memory: "16GiB", cpu: "8..2" }, ["resources"], issues);
    expect(issues.errors).toEqual([
      { path: ["resources", "gpus"], message: 'unknown key (Extra inputs are not permitted); did you mean "gpu"?' },
      { path: ["resources", "cpu"], message: "Invalid range order" },
      { path: ["resources", "memory"], message: "could not convert string to float: '16gib'" },
    ]);
  });
  test("resources: null is invalid", () => {
    const issues = new Issues();
    expect(parseResources(null, ["resources"], issues)).toBeUndefined();
    expect(issues.errors[0]!.message).toContain("resources: null is not allowed");
  });
});
