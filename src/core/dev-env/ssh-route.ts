/**
 * Where `ssh NAME` connects for a dev environment (pure): the host port the VMM mapped to the
 * CVM's sshd, on the VMM's host. A local VMM (unix socket, loopback URL) is reached directly; an
 * http(s):// VMM at its address when the port is published on all addresses; an ssh:// VMM
 * through its SSH host as the jump host (the port as the host itself reaches it).
 */
import { DstackError, RefusedError } from "../errors.ts";
import type { PortMapping } from "../vmm/types.ts";
import { DEV_SSH_PORT } from "./host-key-line.ts";

export interface SshRoute {
  hostName: string;
  port: number;
  proxyJump?: string;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1|\[::1\])$/;
const ANY = new Set(["0.0.0.0", "::", "[::]", ""]);

/** The mapping of the CVM's sshd port, or an error naming what the VM publishes. */
export function sshMapping(ports: readonly PortMapping[]): PortMapping {
  const m = ports.find((p) => p.vm_port === DEV_SSH_PORT && p.protocol === "tcp");
  if (!m) {
    throw new DstackError(`the run's VM publishes no host port for its SSH server (CVM port ${DEV_SSH_PORT})`, {
      hint: "is it a dev environment? `dstack inspect NAME` shows its port map",
    });
  }
  return m;
}

const ADDRESS = /^[A-Za-z0-9.:_[\]-]*$/;

/** The VMM's port map is the host's word: an address and a port, or refused (a newline would reach the SSH config). */
function checked(m: PortMapping): PortMapping {
  if (typeof m.host_address !== "string" || !ADDRESS.test(m.host_address) || m.host_address.startsWith("-"))
    throw new RefusedError(`the VMM maps the run's SSH port to ${JSON.stringify(m.host_address)}: not an address`);
  if (!Number.isInteger(m.host_port) || m.host_port < 1 || m.host_port > 65535)
    throw new RefusedError(`the VMM maps the run's SSH port to host port ${JSON.stringify(m.host_port)}: not a port`);
  return m;
}

export function sshRoute(hostUrl: string, mapping: PortMapping): SshRoute {
  const m = checked(mapping);
  const bound = ANY.has(m.host_address) ? "127.0.0.1" : m.host_address;
  if (hostUrl.startsWith("unix:")) return { hostName: bound, port: m.host_port };
  const u = new URL(hostUrl);
  const host = u.hostname.replace(/^\[|\]$/g, "");
  if (u.protocol === "ssh:") {
    const user = u.username ? `${decodeURIComponent(u.username)}@` : "";
    const at = host.includes(":") ? `[${host}]` : host;
    return { hostName: bound, port: m.host_port, proxyJump: `${user}${at}${u.port ? `:${u.port}` : ""}` };
  }
  if (LOOPBACK.test(host)) return { hostName: bound, port: m.host_port };
  if (ANY.has(m.host_address)) return { hostName: host, port: m.host_port };
  if (LOOPBACK.test(m.host_address)) {
    throw new DstackError(`the VMM at ${hostUrl} publishes the run's SSH port on its loopback (${m.host_address}:${m.host_port}) only`, {
      hint: "reach the host over SSH instead: --host ssh://USER@HOST (the alias then jumps through it)",
    });
  }
  return { hostName: m.host_address, port: m.host_port };
}
