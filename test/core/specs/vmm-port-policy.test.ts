import { describe, expect, test } from "bun:test";
import { DEFAULT_PORT_POLICY } from "../../../src/core/specs/ports.ts";
import { portPolicyFromVmmToml } from "../../../src/core/specs/vmm-port-policy.ts";

describe("portPolicyFromVmmToml", () => {
  test("ranges and the enabled flag as written; upstream defaults where absent", () => {
    const t = `[cvm.port_mapping]\nenabled = true\nrange = [{ protocol = "tcp", from = 8000, to = 9000 }, { protocol = "udp", from = 53, to = 53 }]\n`;
    expect(portPolicyFromVmmToml(t)).toEqual({
      enabled: true,
      ranges: [
        { protocol: "tcp", from: 8000, to: 9000 },
        { protocol: "udp", from: 53, to: 53 },
      ],
    });
    expect(portPolicyFromVmmToml("[cvm.port_mapping]\nenabled = false\n")).toEqual({ enabled: false, ranges: DEFAULT_PORT_POLICY.ranges });
    expect(portPolicyFromVmmToml("")).toEqual({ enabled: false, ranges: DEFAULT_PORT_POLICY.ranges }); // upstream: disabled unless enabled
    expect(() => portPolicyFromVmmToml("[cvm\n", "/etc/dstack/vmm.toml")).toThrow("/etc/dstack/vmm.toml");
  });
});
