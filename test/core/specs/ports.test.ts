import { describe, expect, test } from "bun:test";
import { UsageError } from "../../../src/core/errors.ts";
import {
  canonicalAddress,
  checkPortPolicy,
  DEFAULT_PORT_POLICY,
  formatPortSpec,
  mappingsOverlap,
  parseBindAddress,
  parsePortSpec,
  parsePortSpecs,
  portPolicyProblems,
  portUrl,
  toPortMapping,
} from "../../../src/core/specs/ports.ts";

const p = (s: string) => {
  const { protocol, hostAddress, hostPort, vmPort } = parsePortSpec(s);
  return [protocol, hostAddress, hostPort, vmPort];
};

describe("parsePortSpec", () => {
  const good: [string, unknown[]][] = [
    ["80", ["tcp", "127.0.0.1", "auto", 80]],
    ["8080:80", ["tcp", "127.0.0.1", 8080, 80]],
    [":80", ["tcp", "127.0.0.1", "auto", 80]],
    ["auto:80", ["tcp", "127.0.0.1", "auto", 80]],
    ["0:80", ["tcp", "127.0.0.1", "auto", 80]],
    ["udp:5353:53", ["udp", "127.0.0.1", 5353, 53]],
    ["tcp:auto:22", ["tcp", "127.0.0.1", "auto", 22]],
    ["UDP:1:2", ["udp", "127.0.0.1", 1, 2]],
    ["tcp:0.0.0.0:8080:80", ["tcp", "0.0.0.0", 8080, 80]],
    ["tcp:[::1]:8080:80", ["tcp", "::1", 8080, 80]],
    ["udp:[::]:0:53", ["udp", "::", "auto", 53]],
    ["tcp::8080:80", ["tcp", "127.0.0.1", 8080, 80]],
    ["127.0.0.2:8080:80", ["tcp", "127.0.0.2", 8080, 80]],
    ["[fe80::1]::80", ["tcp", "fe80::1", "auto", 80]],
    ["8080:80/udp", ["udp", "127.0.0.1", 8080, 80]],
    ["udp:53:53/udp", ["udp", "127.0.0.1", 53, 53]],
    ["65535:65535", ["tcp", "127.0.0.1", 65535, 65535]],
    [" 8080:80 ", ["tcp", "127.0.0.1", 8080, 80]],
  ];
  for (const [spec, want] of good) test(JSON.stringify(spec), () => expect(p(spec)).toEqual(want as never));

  const badSpecs: [string, RegExp][] = [
    ["", /empty/],
    ["sctp:8080:80", /not an IP address|neither a protocol/],
    ["sctp:1.2.3.4:8080:80", /unknown protocol "sctp"/],
    ["70000:80", /host port 70000 is out of range/],
    ["8080:0", /VM port 0 is out of range/],
    ["8080:", /VM port is missing/],
    ["8080:http", /VM port "http" is not a number/],
    ["-1:80", /host port "-1" is not a number/],
    ["1:2:3:4:5", /5 colon-separated parts/],
    ["tcp:::1:8080:80", /colon-separated parts/],
    ["tcp:::1:80", /colon-separated|not an IP/],
    ["tcp:[::1:8080:80", /unclosed \[/],
    ["tcp:]:8080:80", /unbalanced \]/],
    ["tcp:[1.2.3.4]:8080:80", /not an IPv6 address in brackets/],
    ["tcp:localhost:8080:80", /"localhost" is not an IP address/],
    ["tcp:8080:80/udp", /two different protocols/],
    ["8080:80/sctp", /unknown protocol "sctp"/],
    ["80.5", /not a number/],
    ["8000-8010:8000-8010", /not a number/],
  ];
  for (const [spec, re] of badSpecs) {
    test(`rejects ${JSON.stringify(spec)} quoting the spec and listing the forms`, () => {
      let err: unknown;
      try {
        parsePortSpec(spec, "-p");
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UsageError);
      const msg = (err as Error).message;
      expect(msg).toContain(`invalid -p ${JSON.stringify(spec)}`);
      expect(msg).toMatch(re);
      expect(msg).toContain("VM | HOST:VM | PROTO:HOST:VM | ADDR:HOST:VM | PROTO:ADDR:HOST:VM");
      expect((err as UsageError).exitCode).toBe(2);
    });
  }

  test("parse is pure: no allocation, the same answer each time", () => {
    expect(parsePortSpec("80")).toEqual(parsePortSpec("80"));
    expect(parsePortSpec("80").hostPort).toBe("auto");
  });

  test("format and wire form", () => {
    expect(formatPortSpec(parsePortSpec("tcp:[::1]:8080:80"))).toBe("tcp:[::1]:8080:80");
    expect(formatPortSpec(parsePortSpec("80"))).toBe("tcp:127.0.0.1:auto:80");
    expect(toPortMapping(parsePortSpec("udp:0.0.0.0:5353:53"))).toEqual({
      protocol: "udp",
      host_address: "0.0.0.0",
      host_port: 5353,
      vm_port: 53,
    });
    expect(() => toPortMapping(parsePortSpec("80"))).toThrow(/not resolved/);
    expect(parsePortSpecs(["1:2", "3"]).map((s) => s.vmPort)).toEqual([2, 3]);
    expect(portUrl({ protocol: "tcp", host_address: "::", host_port: 8080, vm_port: 80 })).toBe("http://[::1]:8080/");
    expect(portUrl({ protocol: "tcp", host_address: "0.0.0.0", host_port: 81, vm_port: 80 })).toBe("http://127.0.0.1:81/");
  });
});

describe("port policy (VMM rules, upstream dstack/vmm/src/main_service.rs)", () => {
  const specs = (...s: string[]) => parsePortSpecs(s);
  test("inside the default range is fine; outside, udp, disabled are not", () => {
    expect(portPolicyProblems(specs("8080:80", "80", "20000:1"), DEFAULT_PORT_POLICY)).toEqual([]);
    expect(portPolicyProblems(specs("20001:80"), DEFAULT_PORT_POLICY)[0]).toMatch(
      /tcp:20001 is outside the ranges this VMM allows \(tcp 1-20000, udp 1-20000\)/,
    );
    expect(portPolicyProblems(specs("udp:53:53"), DEFAULT_PORT_POLICY)).toEqual([]); // udp is rendered too (upstream: tcp only)
    expect(portPolicyProblems(specs("udp:20001:53"), DEFAULT_PORT_POLICY)[0]).toMatch(/outside/);
    expect(portPolicyProblems(specs("udp:auto:53"), { ranges: [{ protocol: "tcp", from: 1, to: 20000 }] })[0]).toMatch(
      /allows no udp host ports/,
    );
    expect(portPolicyProblems(specs("80"), { enabled: false, ranges: [] })[0]).toMatch(/disabled/);
    expect(portPolicyProblems([], { enabled: false, ranges: [] })).toEqual([]);
  });
  test("duplicates: same address, or 0.0.0.0/:: overlapping every address; protocols apart", () => {
    expect(portPolicyProblems(specs("8080:80", "8080:81"), DEFAULT_PORT_POLICY)).toHaveLength(1);
    expect(portPolicyProblems(specs("tcp:0.0.0.0:8080:80", "tcp:127.0.0.5:8080:81"), DEFAULT_PORT_POLICY)).toHaveLength(1);
    expect(portPolicyProblems(specs("tcp:[::]:8080:80", "tcp:127.0.0.1:8080:81"), DEFAULT_PORT_POLICY)).toHaveLength(1);
    expect(portPolicyProblems(specs("tcp:[::1]:8080:80", "tcp:[0:0::1]:8080:81"), DEFAULT_PORT_POLICY)).toHaveLength(1);
    expect(portPolicyProblems(specs("tcp:127.0.0.1:8080:80", "tcp:127.0.0.2:8080:81"), DEFAULT_PORT_POLICY)).toEqual([]);
    const wide = {
      ranges: [
        { protocol: "tcp", from: 1, to: 65535 },
        { protocol: "udp", from: 1, to: 65535 },
      ],
    };
    expect(portPolicyProblems(specs("8080:80", "udp:8080:80"), wide)).toEqual([]);
    expect(portPolicyProblems(specs("80", "80"), wide)).toEqual([]); // auto ports are picked apart later
  });
  test("clash with another VM names it", () => {
    const existing = [{ vm: "web-1", mapping: { protocol: "tcp", host_address: "0.0.0.0", host_port: 8080, vm_port: 80 } }];
    expect(portPolicyProblems(specs("8080:80"), DEFAULT_PORT_POLICY, existing)[0]).toMatch(/already mapped by VM web-1/);
    expect(() => checkPortPolicy(specs("8080:80", "30000:1"), DEFAULT_PORT_POLICY, existing)).toThrow(UsageError);
  });
  test("canonicalAddress / mappingsOverlap", () => {
    expect(canonicalAddress("::1")).toBe("0:0:0:0:0:0:0:1");
    expect(canonicalAddress("[0:0:0:0:0:0:0:1]")).toBe("0:0:0:0:0:0:0:1");
    expect(canonicalAddress("::ffff:1.2.3.4")).toBe("0:0:0:0:0:ffff:102:304");
    expect(canonicalAddress("fe80::")).toBe("fe80:0:0:0:0:0:0:0");
    expect(
      mappingsOverlap({ protocol: "tcp", host_address: "", host_port: 1 }, { protocol: "tcp", host_address: "127.0.0.1", host_port: 1 }),
    ).toBe(true);
  });
});

describe("parseBindAddress (apply --host ADDR)", () => {
  test("localhost is 127.0.0.1; IPv4 and IPv6 (brackets optional, lower case); anything else is not one", () => {
    expect(parseBindAddress("localhost")).toBe("127.0.0.1");
    expect(parseBindAddress("0.0.0.0")).toBe("0.0.0.0");
    expect(parseBindAddress("10.1.2.3")).toBe("10.1.2.3");
    expect(parseBindAddress("::")).toBe("::");
    expect(parseBindAddress("[FE80::1]")).toBe("fe80::1");
    for (const no of ["example.com", "ssh://h", "unix:/x.sock", "", "[]", "1.2.3", "[0.0.0.0]x"])
      expect(parseBindAddress(no)).toBeUndefined();
  });
});
