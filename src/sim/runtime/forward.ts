/**
 * The VMM's port mappings as user-mode networking does them (QEMU `hostfwd=proto:addr:host-:vm`,
 * Dstack-TEE/dstack: dstack/vmm/src/app/qemu.rs): listen on host_address:host_port and relay each
 * TCP connection, or each UDP peer, to the VM's guest address and vm_port. Listening starts
 * when the VM's containers start and stops with the VM.
 */
import type { PortMapping } from "../../core/vmm/types.ts";

export interface Forward {
  close(): void;
}

type Sock = { write(d: Uint8Array): number; end(): void; data: Peer };
interface Peer {
  other?: Sock;
  /** bytes not yet taken by the socket (kernel buffer full) */
  pending: Uint8Array[];
  closed: boolean;
}

function send(to: Sock | undefined, from: Peer, chunk: Uint8Array): void {
  if (!to) {
    from.pending.push(chunk);
    return;
  }
  if (to.data.pending.length) {
    to.data.pending.push(chunk);
    return;
  }
  const n = to.write(chunk);
  if (n < chunk.length) to.data.pending.push(chunk.subarray(Math.max(n, 0)));
}

function flush(s: Sock): void {
  while (s.data.pending.length) {
    const c = s.data.pending[0]!;
    const n = s.write(c);
    if (n < c.length) {
      s.data.pending[0] = c.subarray(Math.max(n, 0));
      return;
    }
    s.data.pending.shift();
  }
  if (s.data.closed) s.end();
}

function forwardTcp(m: PortMapping, guest: string): Forward {
  const server = Bun.listen<Peer>({
    hostname: m.host_address,
    port: m.host_port,
    data: { pending: [], closed: false },
    socket: {
      open(client) {
        client.data = { pending: [], closed: false };
        Bun.connect<Peer>({
          hostname: guest,
          port: m.vm_port,
          data: { pending: [], closed: false, other: client as unknown as Sock },
          socket: {
            open(up) {
              client.data.other = up as unknown as Sock;
              // what the client sent before the guest answered
              up.data.pending = client.data.pending;
              client.data.pending = [];
              flush(up as unknown as Sock);
            },
            data(up, d) {
              send(up.data.other, up.data, new Uint8Array(d));
            },
            drain(up) {
              flush(up as unknown as Sock);
            },
            close(up) {
              const c = up.data.other;
              if (c) {
                c.data.closed = true;
                if (!c.data.pending.length) c.end();
              }
            },
            error() {},
            connectError() {
              client.end(); // the guest port refuses: so does the mapping, as slirp resets it
            },
          },
        }).catch(() => client.end());
      },
      data(client, d) {
        const up = client.data.other;
        if (up) send(up, client.data, new Uint8Array(d));
        else client.data.pending.push(new Uint8Array(d));
      },
      drain(client) {
        flush(client as unknown as Sock);
      },
      close(client) {
        const up = client.data.other;
        if (up) {
          up.data.closed = true;
          if (!up.data.pending.length) up.end();
        }
      },
      error() {},
    },
  });
  return { close: () => server.stop(true) };
}

const UDP_IDLE_MS = 60_000;

async function forwardUdp(m: PortMapping, guest: string): Promise<Forward> {
  const peers = new Map<string, { sock: Awaited<ReturnType<typeof Bun.udpSocket>>; last: number }>();
  let closed = false;
  const server = await Bun.udpSocket({
    hostname: m.host_address,
    port: m.host_port,
    socket: {
      async data(srv, buf, port, addr) {
        const key = `${addr}:${port}`;
        let peer = peers.get(key);
        if (!peer) {
          const sock = await Bun.udpSocket({
            connect: { hostname: guest, port: m.vm_port },
            socket: { data: (_s, reply) => void srv.send(reply, port, addr) },
          });
          if (closed) return sock.close();
          peer = { sock, last: Date.now() };
          peers.set(key, peer);
        }
        peer.last = Date.now();
        peer.sock.send(buf);
      },
    },
  });
  const sweep = setInterval(() => {
    for (const [k, p] of peers)
      if (Date.now() - p.last > UDP_IDLE_MS) {
        p.sock.close();
        peers.delete(k);
      }
  }, UDP_IDLE_MS / 4);
  return {
    close() {
      closed = true;
      clearInterval(sweep);
      server.close();
      for (const p of peers.values()) p.sock.close();
      peers.clear();
    },
  };
}

/** Open every mapping of a VM (tcp and udp); throws (closing what opened) when one cannot listen. */
export async function openForwards(ports: PortMapping[], guest: string): Promise<Forward[]> {
  const open: Forward[] = [];
  try {
    for (const m of ports) {
      open.push(m.protocol === "udp" ? await forwardUdp(m, guest) : forwardTcp(m, guest));
    }
  } catch (e) {
    for (const f of open) f.close();
    throw new Error(`could not set up host forwarding rule: ${(e as Error).message}`);
  }
  return open;
}
