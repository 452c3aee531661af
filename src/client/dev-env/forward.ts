/**
 * While attached: OpenSSH's own client holds a session to the dev environment through the alias
 * (so the run counts as in use) and forwards the run's ports to this machine — each at the same
 * port number when it is free here, else the next free one upwards (dstackai's rule). A first
 * `ssh NAME true` proves the alias works (and that the pinned key is the one the CVM shows)
 * before anything is printed. Ctrl-C ends the forwards.
 */
import { DstackError } from "../../core/errors.ts";
import { isPortFree } from "../../host/free-port.ts";
import { which } from "../../host/runner.ts";

export interface Forward {
  local: number;
  remote: number;
}

export interface Tunnel {
  forwards: Forward[];
  /** resolves when ssh exits (the CVM went away, the connection dropped) */
  exited: Promise<string>;
  stop(): Promise<void>;
}

async function localPorts(remote: number[]): Promise<Forward[]> {
  const taken = new Set<number>();
  const out: Forward[] = [];
  for (const r of remote) {
    let p = r;
    while (p <= 65535 && (taken.has(p) || !(await isPortFree("tcp", "127.0.0.1", p)))) p++;
    if (p > 65535) throw new DstackError(`no free local port at or above ${r} to forward the run's port ${r} to`);
    taken.add(p);
    out.push({ local: p, remote: r });
  }
  return out;
}

function sshProgram(): string {
  const ssh = which("ssh");
  if (!ssh) throw new DstackError("OpenSSH's client (ssh) is not installed", { hint: "install openssh-client: attach runs `ssh`" });
  return ssh;
}

const BASE = ["-o", "BatchMode=yes", "-o", "ConnectTimeout=15"];

/** `ssh -F config NAME true`: "" when it works, else what ssh said. */
export async function probeAlias(config: string, alias: string): Promise<string> {
  const p = Bun.spawn([sshProgram(), "-F", config, ...BASE, alias, "true"], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
  return code === 0 ? "" : err.trim() || `ssh exited ${code}`;
}

export async function openTunnel(config: string, alias: string, remotePorts: number[]): Promise<Tunnel> {
  const forwards = await localPorts(remotePorts);
  const argv = [sshProgram(), "-F", config, ...BASE, "-N", "-o", "ExitOnForwardFailure=yes", "-o", "ServerAliveInterval=30"];
  for (const f of forwards) argv.push("-L", `127.0.0.1:${f.local}:localhost:${f.remote}`);
  const p = Bun.spawn([...argv, alias], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  const stderr = new Response(p.stderr).text();
  const exited = p.exited.then(async (code) => (await stderr).trim() || `ssh exited ${code}`);
  return {
    forwards,
    exited,
    stop: async () => {
      p.kill("SIGTERM");
      await p.exited;
    },
  };
}
