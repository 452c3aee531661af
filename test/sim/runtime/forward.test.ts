/** The VMM's port mappings, user-mode style: host_address:host_port → guest address:vm_port, tcp and udp. */
import { expect, test } from "bun:test";
import { openForwards } from "../../../src/sim/runtime/forward.ts";
import { guestAddressOf } from "../../../src/sim/runtime/guest-address.ts";

const guest = guestAddressOf(`forward-test-${process.pid}`);

test("tcp: HTTP through the mapping (a large body too); closed, the port refuses", async () => {
  const big = "x".repeat(3 * 1024 * 1024);
  const app = Bun.serve({ hostname: guest, port: 0, fetch: (r) => new Response(new URL(r.url).pathname === "/big" ? big : "hi") });
  const host = 15000 + Math.floor(Math.random() * 4000);
  const fw = await openForwards([{ protocol: "tcp", host_address: "127.0.0.1", host_port: host, vm_port: app.port! }], guest);
  try {
    expect(await (await fetch(`http://127.0.0.1:${host}/`)).text()).toBe("hi");
    expect((await (await fetch(`http://127.0.0.1:${host}/big`)).text()).length).toBe(big.length);
    const posted = await fetch(`http://127.0.0.1:${host}/`, { method: "POST", body: big });
    expect(posted.status).toBe(200);
  } finally {
    for (const f of fw) f.close();
    app.stop(true);
  }
  await expect(fetch(`http://127.0.0.1:${host}/`)).rejects.toThrow();
});

test("tcp: a guest port nobody listens on resets the connection", async () => {
  const host = 15000 + Math.floor(Math.random() * 4000);
  const fw = await openForwards([{ protocol: "tcp", host_address: "127.0.0.1", host_port: host, vm_port: 1 }], guest);
  try {
    await expect(fetch(`http://127.0.0.1:${host}/`)).rejects.toThrow();
  } finally {
    for (const f of fw) f.close();
  }
});

test("udp: datagrams go to the guest and the replies come back to the sender", async () => {
  const echo = await Bun.udpSocket({
    hostname: guest,
    socket: { data: (s, buf, port, addr) => void s.send(`echo:${buf.toString()}`, port, addr) },
  });
  const host = 15000 + Math.floor(Math.random() * 4000);
  const fw = await openForwards([{ protocol: "udp", host_address: "127.0.0.1", host_port: host, vm_port: echo.port }], guest);
  const got = Promise.withResolvers<string>();
  const client = await Bun.udpSocket({ socket: { data: (_s, buf) => got.resolve(buf.toString()) } });
  try {
    client.send("ping", host, "127.0.0.1");
    expect(await Promise.race([got.promise, Bun.sleep(3000).then(() => "timeout")])).toBe("echo:ping");
  } finally {
    client.close();
    for (const f of fw) f.close();
    echo.close();
  }
});

test("a mapping that cannot listen fails with the VMM's words and leaves nothing open", async () => {
  const busy = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const free = 15000 + Math.floor(Math.random() * 4000);
  const ports = [
    { protocol: "tcp", host_address: "127.0.0.1", host_port: free, vm_port: 80 },
    { protocol: "tcp", host_address: "127.0.0.1", host_port: busy.port, vm_port: 80 },
  ];
  await expect(openForwards(ports, guest)).rejects.toThrow("could not set up host forwarding rule");
  await Bun.sleep(50);
  const again = await openForwards([ports[0]!], guest); // the first one was closed again
  for (const f of again) f.close();
  busy.stop(true);
});
