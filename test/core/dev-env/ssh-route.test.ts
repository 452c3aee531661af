import { describe, expect, test } from "bun:test";
import { sshMapping, sshRoute } from "../../../src/core/dev-env/ssh-route.ts";

const map = (host_address: string, host_port = 20022) => ({ protocol: "tcp", host_address, host_port, vm_port: 10022 });

describe("where ssh NAME connects", () => {
  test("the mapping of CVM port 10022 is found; a VM without one is an error", () => {
    expect(sshMapping([{ protocol: "tcp", host_address: "127.0.0.1", host_port: 8080, vm_port: 80 }, map("127.0.0.1")]).host_port).toBe(
      20022,
    );
    expect(() => sshMapping([{ protocol: "tcp", host_address: "127.0.0.1", host_port: 8080, vm_port: 80 }])).toThrow(/10022/);
  });

  test("a port map that is not an address and a port (the VMM's word) is refused", () => {
    expect(() => sshRoute("unix:/run/vmm.sock", map("127.0.0.1\n    ProxyCommand touch /tmp/pwned"))).toThrow(/not an address/);
    expect(() => sshRoute("ssh://ops@vmm.example", map("127.0.0.1", "22\nProxyCommand x" as unknown as number))).toThrow(/not a port/);
    expect(() => sshRoute("unix:/run/vmm.sock", map("127.0.0.1", 70000))).toThrow(/not a port/);
  });

  test("a local VMM: the mapped address (0.0.0.0 → loopback) and port", () => {
    expect(sshRoute("unix:/run/vmm.sock", map("127.0.0.1"))).toEqual({ hostName: "127.0.0.1", port: 20022 });
    expect(sshRoute("http://127.0.0.1:9080", map("0.0.0.0"))).toEqual({ hostName: "127.0.0.1", port: 20022 });
  });

  test("an http VMM elsewhere: its address when published on all addresses, refused when on its loopback only", () => {
    expect(sshRoute("http://vmm.example:9080", map("0.0.0.0"))).toEqual({ hostName: "vmm.example", port: 20022 });
    expect(sshRoute("http://vmm.example:9080", map("10.0.0.5"))).toEqual({ hostName: "10.0.0.5", port: 20022 });
    expect(() => sshRoute("http://vmm.example:9080", map("127.0.0.1"))).toThrow(/on its loopback/);
  });

  test("an ssh:// VMM is the jump host, the port as that host reaches it", () => {
    expect(sshRoute("ssh://ops@vmm.example:2222?prefix=/opt/d", map("127.0.0.1"))).toEqual({
      hostName: "127.0.0.1",
      port: 20022,
      proxyJump: "ops@vmm.example:2222",
    });
    expect(sshRoute("ssh://myhost", map("0.0.0.0")).proxyJump).toBe("myhost");
  });
});
