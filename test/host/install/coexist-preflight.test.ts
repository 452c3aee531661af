import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scanCoexistence } from "../../../src/host/install/coexist.ts";
import { detectPlatform } from "../../../src/host/install/platform.ts";
import { checkPlatform } from "../../../src/host/install/preflight/host.ts";
import { checkHostApi, checkPorts } from "../../../src/host/install/preflight/network.ts";
import { applyIgnores, blocking, parseIgnoreList } from "../../../src/host/install/preflight.ts";
import { daemonPid, startDaemon, stopDaemon } from "../../../src/host/services/daemons.ts";

function fakeProc(entries: Record<string, string[]>): string {
  const root = mkdtempSync(join(tmpdir(), "proc-"));
  for (const [pid, argv] of Object.entries(entries)) {
    mkdirSync(join(root, pid));
    writeFileSync(join(root, pid, "cmdline"), `${argv.join("\0")}\0`);
  }
  return root;
}

describe("coexistence scan", () => {
  test("reads other VMMs' CID windows and host-api ports with a TOML parser, excluding our own config", () => {
    const dir = mkdtempSync(join(tmpdir(), "coex-"));
    const other = join(dir, "other.toml");
    writeFileSync(
      other,
      `[cvm]\ncid_start = 3000 # theirs\ncid_pool_size = 500\n[host_api]\naddress = "vsock:2"\nport = 10001\n[other]\nport = 1\n`,
    );
    const ours = join(dir, "ours.toml");
    writeFileSync(ours, `[cvm]\ncid_start = 1000\n[host_api]\nport = 10000\n`);
    const proc = fakeProc({
      "10": ["/usr/bin/dstack-vmm", "-c", other],
      "11": ["/opt/x/dstack-vmm", "--config", ours],
      "12": ["qemu-system-x86_64", "-device", "vhost-vsock-pci,guest-cid=7001"],
      "13": ["/bin/sleep", "9"],
    });
    const co = scanCoexistence(ours, proc);
    expect(co.vmms.map((v) => v.pid)).toEqual([10]);
    expect(co.cidRanges).toContainEqual([3000, 3500]);
    expect(co.cidRanges).toContainEqual([7001, 7002]);
    expect(co.hostApiPorts).toEqual([10001]);
    expect(checkHostApi(10001, co.hostApiPorts).ok).toBe(false);
    expect(checkHostApi(10000, co.hostApiPorts).ok).toBe(true);
  });
});

describe("preflight checks", () => {
  test("ports: duplicates, busy ports and owned ports", async () => {
    const dup = await checkPorts([
      { what: "dashboard", flag: "--dashboard-port", address: "127.0.0.1", port: 9080, owned: false },
      { what: "auth webhook", flag: "--auth-port", address: "0.0.0.0", port: 9080, owned: false },
    ]);
    expect(dup.ok).toBe(false);
    expect(dup.detail).toContain("--dashboard-port and --auth-port both use 127.0.0.1/0.0.0.0:9080");
    const srv = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("x") });
    try {
      const busy = await checkPorts([{ what: "auth webhook", flag: "--auth-port", address: "127.0.0.1", port: srv.port!, owned: false }]);
      expect(busy.ok).toBe(false);
      expect(busy.detail).toContain(`auth webhook port 127.0.0.1:${srv.port} is already in use; pass --auth-port <free-port>`);
      const owned = await checkPorts([{ what: "auth webhook", flag: "--auth-port", address: "127.0.0.1", port: srv.port!, owned: true }]);
      expect(owned.ok).toBe(true);
    } finally {
      srv.stop(true);
    }
  });

  test("platform detection and device checks", () => {
    const dir = mkdtempSync(join(tmpdir(), "cpu-"));
    writeFileSync(join(dir, "tdx"), "processor: 0\nflags\t\t: fpu vme tdx_host_platform sgx\n");
    writeFileSync(join(dir, "snp"), "flags\t\t: fpu sev sev_snp tdx_host_platform\n");
    writeFileSync(join(dir, "none"), "flags\t\t: fpu vme\n");
    expect(detectPlatform(join(dir, "tdx"))).toBe("tdx");
    expect(detectPlatform(join(dir, "snp"))).toBe("amd-sev-snp");
    expect(detectPlatform(join(dir, "none"))).toBeUndefined();
    const dev = mkdtempSync(join(tmpdir(), "dev-"));
    const tdx = checkPlatform("tdx", "auto", dev);
    expect(tdx.ok).toBe(false);
    expect(tdx.detail).toContain(`missing ${dev}/sgx_enclave, ${dev}/sgx_provision`);
    writeFileSync(join(dev, "sgx_enclave"), "");
    writeFileSync(join(dev, "sgx_provision"), "");
    expect(checkPlatform("tdx", "auto", dev).ok).toBe(true);
    expect(checkPlatform(undefined, "auto", dev).fix).toContain("--simulate");
  });

  test("--ignore-preflight-errors demotes named checks; unknown names are usage errors", () => {
    const results = [
      { name: "kvm", ok: false, detail: "x" },
      { name: "ports", ok: false, detail: "y" },
    ];
    expect(blocking(applyIgnores(results, parseIgnoreList("kvm"))).map((r) => r.name)).toEqual(["ports"]);
    expect(blocking(applyIgnores(results, parseIgnoreList("all")))).toEqual([]);
    expect(() => parseIgnoreList("kvmm")).toThrow(/unknown check "kvmm"/);
  });
});

describe("detached daemons", () => {
  test("start, detect by pidfile + command line, stop", async () => {
    const run = mkdtempSync(join(tmpdir(), "run-"));
    const pid = startDaemon({ name: "t", argv: ["/bin/sleep", "30"], runDir: run, cwd: run });
    await Bun.sleep(50);
    expect(daemonPid(run, "t")).toBe(pid);
    expect(await stopDaemon(run, "t")).toBe(true);
    expect(daemonPid(run, "t")).toBeUndefined();
    expect(await stopDaemon(run, "t")).toBe(false);
  });

  test("a pidfile whose pid now runs something else does not count", async () => {
    const run = mkdtempSync(join(tmpdir(), "run-"));
    writeFileSync(join(run, "x.pid"), JSON.stringify({ pid: process.pid, argv: ["/bin/sleep", "30"], startedAt: "" }));
    expect(daemonPid(run, "x")).toBeUndefined();
  });
});
