import { describe, expect, test } from "bun:test";
import { NotFoundError, UsageError } from "../../../src/core/errors.ts";
import { nameFromImage, selectVm } from "../../../src/core/vmm/vm-select.ts";

const vms = [
  { id: "a1b2c3d4-0000-4000-8000-000000000001", name: "web", status: "running" },
  { id: "a1b2ffff-0000-4000-8000-000000000002", name: "db", status: "stopped" },
  { id: "b7000000-0000-4000-8000-000000000003", name: "a1b2", status: "running" },
  { id: "c9000000-0000-4000-8000-000000000004", name: "gone", status: "removing" },
];

describe("selectVm", () => {
  test("an exact name wins, even over id prefixes it also matches", () => {
    expect(selectVm(vms, "web").id).toBe(vms[0]!.id);
    expect(selectVm(vms, "a1b2").name).toBe("a1b2");
  });
  test("a unique id prefix, or the full id, selects", () => {
    expect(selectVm(vms, "a1b2c").name).toBe("web");
    expect(selectVm(vms, "a1b2f").name).toBe("db");
    expect(selectVm(vms, "b7").name).toBe("a1b2");
    expect(selectVm(vms, vms[1]!.id).name).toBe("db");
  });
  test("an ambiguous prefix is a usage error listing every candidate", () => {
    let err: unknown;
    try {
      selectVm(vms, "a1");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    const msg = (err as Error).message;
    expect(msg).toContain("matches 2 VMs");
    expect(msg).toContain(vms[0]!.id);
    expect(msg).toContain(vms[1]!.id);
    expect((err as UsageError).exitCode).toBe(2);
  });
  test("nothing matching, or only a VM being removed, is not found (exit 3)", () => {
    for (const ref of ["zz", "gone", "c9"]) {
      let err: unknown;
      try {
        selectVm(vms, ref);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(NotFoundError);
      expect((err as NotFoundError).exitCode).toBe(3);
    }
  });
});

describe("nameFromImage", () => {
  test.each([
    ["nginx", "nginx"],
    ["nginx:1.27", "nginx"],
    ["library/redis:7", "redis"],
    [`ghcr.io/org/my_app@sha256:${"0".repeat(64)}`, "my_app"],
    ["localhost:5000/team/api:v2", "api"],
    ["registry/x/.hidden:1", "hidden"],
  ])("%s → %s", (image, name) => {
    expect(nameFromImage(image)).toBe(name);
  });
});
