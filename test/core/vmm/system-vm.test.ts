import { describe, expect, test } from "bun:test";
import { RefusedError } from "../../../src/core/errors.ts";
import { refuseSystemVm, systemRoleOf, systemUserConfig } from "../../../src/core/vmm/system-vm.ts";
import type { VmConfiguration } from "../../../src/core/vmm/types.ts";

const vm = (user_config: string) => ({ id: "5a2b3c4d-0000", name: "dstack-kms", configuration: { user_config } as VmConfiguration });

describe("the system-VM marker", () => {
  test("reads back the role it writes; an app's own user_config, or none, is no system VM", () => {
    expect(systemRoleOf(systemUserConfig("kms"))).toBe("kms");
    for (const other of ["", "not json", "[]", "null", '{"dstack":{"launch_token":"x"}}', '{"dstackup":{"system":5}}', '{"dstackup":null}'])
      expect(systemRoleOf(other)).toBeUndefined();
  });
  test("refuses a marked VM with exit 4, naming it and dstackup; lets others through", () => {
    expect(() => refuseSystemVm(vm("{}"), "stop")).not.toThrow();
    let err: unknown;
    try {
      refuseSystemVm(vm(systemUserConfig("kms")), "remove");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RefusedError);
    expect((err as RefusedError).exitCode).toBe(4);
    expect((err as RefusedError).message).toBe("dstack-kms (5a2b3c4d) is this host's KMS CVM, a system VM: dstack does not remove it");
    expect((err as RefusedError).hint).toContain("dstackup destroy");
  });
});
