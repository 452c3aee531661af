import { describe, expect, test } from "bun:test";
import { createServer } from "node:net";
import { parsePortSpecs } from "../../src/core/specs/ports.ts";
import { candidateIntervals, ephemeralRange, isPortFree, pickFreePort, resolveAutoPorts } from "../../src/host/free-port.ts";

const RANGES = [{ protocol: "tcp", from: 1, to: 20000 }];

describe("free host ports (never from the ephemeral range, where upstream dstack-cli-core/src/ports.rs picks them)", () => {
  test("the ephemeral range is read from the kernel", () => {
    const [lo, hi] = ephemeralRange();
    expect(lo).toBeGreaterThan(0);
    expect(hi).toBeGreaterThanOrEqual(lo);
  });
  test("candidates exclude the ephemeral range and low ports", () => {
    expect(
      candidateIntervals("tcp", { ranges: [{ protocol: "tcp", from: 1, to: 65535 }], ephemeral: [32768, 60999], minPort: 1024 }),
    ).toEqual([
      [1024, 32767],
      [61000, 65535],
    ]);
    expect(candidateIntervals("udp", { ranges: RANGES, ephemeral: [32768, 60999] })).toEqual([]);
  });
  test("issue 14 item 4: never a privileged port, as root too (the VMM allows 1-20000, as the install's default)", async () => {
    expect(candidateIntervals("tcp", { ranges: RANGES, ephemeral: [32768, 60999] })).toEqual([[1024, 20000]]);
    const picked = await Promise.all(
      Array.from({ length: 500 }, () => pickFreePort("tcp", "127.0.0.1", { ranges: RANGES, ephemeral: [32768, 60999], probe: false })),
    );
    expect(Math.min(...picked)).toBeGreaterThanOrEqual(1024);
  });
  test("picked ports are inside the allowed range and free", async () => {
    const [elo, ehi] = ephemeralRange();
    for (let i = 0; i < 20; i++) {
      const port = await pickFreePort("tcp", "127.0.0.1", { ranges: RANGES, minPort: 1024 });
      expect(port).toBeGreaterThanOrEqual(1024);
      expect(port).toBeLessThanOrEqual(20000);
      expect(port < elo || port > ehi).toBe(true);
    }
  });
  test("a busy port is skipped", async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen({ host: "127.0.0.1", port: 0 }, r));
    const busy = (srv.address() as { port: number }).port;
    try {
      expect(await isPortFree("tcp", "127.0.0.1", busy)).toBe(false);
      // the only candidate is busy: it is never handed out (a neighbour port may be taken by anything, so no second candidate)
      const err = await pickFreePort("tcp", "127.0.0.1", {
        ranges: [{ protocol: "tcp", from: busy, to: busy }],
        ephemeral: [1, 1],
        minPort: 1,
      }).catch((e) => e);
      expect(err.message).toMatch(/no free tcp host port found on 127.0.0.1 after 1 tries/);
    } finally {
      srv.close();
    }
  });
  test("no candidate → error saying why and what to do", async () => {
    const err = await pickFreePort("tcp", "127.0.0.1", {
      ranges: [{ protocol: "tcp", from: 40000, to: 40010 }],
      ephemeral: [32768, 60999],
    }).catch((e) => e);
    expect(err.message).toMatch(/no tcp host port to pick: the VMM allows tcp 40000-40010/);
    expect(err.hint).toMatch(/-p HOST:VM/);
  });
  test("resolveAutoPorts gives distinct ports avoiding fixed and taken ones", async () => {
    const specs = parsePortSpecs(["80", "81", "5000:82", "auto:83"]);
    const taken = [{ protocol: "tcp", host_address: "0.0.0.0", host_port: 5001 }];
    const out = await resolveAutoPorts(specs, {
      ranges: [{ protocol: "tcp", from: 5000, to: 5004 }],
      ephemeral: [1, 1],
      probe: false,
      taken,
    });
    const ports = out.map((s) => s.hostPort);
    expect(ports[2]).toBe(5000);
    expect(new Set(ports).size).toBe(4);
    for (const p of ports) expect(p === 5001).toBe(false);
    expect(specs[0]!.hostPort).toBe("auto"); // input untouched
    // every candidate of a small range is tried, even when the random draws keep repeating
    for (const random of [() => 0, () => 0.99, Math.random]) {
      const again = await resolveAutoPorts(specs, {
        ranges: [{ protocol: "tcp", from: 5000, to: 5004 }],
        ephemeral: [1, 1],
        probe: false,
        taken,
        random,
      });
      expect(again.map((s) => s.hostPort).sort()).toEqual([5000, 5002, 5003, 5004].sort());
    }
  });
  test("udp ports are probed too; an address not on this host is an error, not a long search", async () => {
    const port = await pickFreePort("udp", "127.0.0.1", {
      ranges: [{ protocol: "udp", from: 10000, to: 20000 }],
      ephemeral: [32768, 60999],
    });
    expect(port).toBeGreaterThanOrEqual(10000);
    expect(await isPortFree("udp", "127.0.0.1", port)).toBe(true);
    const err = await pickFreePort("tcp", "192.0.2.77", { ranges: RANGES }).catch((e) => e);
    expect(err.message).toMatch(/cannot bind 192\.0\.2\.77 on this host/);
  });
});
