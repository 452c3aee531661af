/**
 * `ssh://user@host[:port][/remote/vmm.sock][?target=tcp:127.0.0.1:9080|unix:/path]`:
 * an ssh2 connection (agent or key file; host key checked against known_hosts
 * unless insecureHostKey) and a private local unix socket whose connections are
 * forwarded to the remote VMM (streamlocal for a unix socket, direct-tcpip for TCP).
 * Loaded lazily: nothing else pays for ssh2.
 */
import { createHmac } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { DstackError, RefusedError, UsageError } from "../errors.ts";
import type { Env } from "../io.ts";
import type { ConnectOptions, Transport } from "./transport.ts";
import { unixTransport } from "./transport-unix.ts";

export interface SshTarget {
  user: string;
  host: string;
  port: number;
  remote: { kind: "unix"; path: string } | { kind: "tcp"; host: string; port: number };
}

export function parseSshHost(url: string, env: Env = process.env): SshTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`invalid ssh host '${url}': expected ssh://user@host[:port][/path/to/vmm.sock]`);
  }
  if (!u.hostname) throw new UsageError(`invalid ssh host '${url}': no host`);
  const user = decodeURIComponent(u.username) || env.USER || "root";
  const target = u.searchParams.get("target");
  let remote: SshTarget["remote"] = { kind: "tcp", host: "127.0.0.1", port: 9080 };
  if (target?.startsWith("unix:")) remote = { kind: "unix", path: target.slice(5) };
  else if (target?.startsWith("tcp:")) {
    const m = /^tcp:(.+):(\d+)$/.exec(target);
    if (!m) throw new UsageError(`invalid ssh target '${target}': expected tcp:HOST:PORT or unix:/path`);
    remote = { kind: "tcp", host: m[1]!.replace(/^\[|\]$/g, ""), port: Number(m[2]) };
  } else if (target) throw new UsageError(`invalid ssh target '${target}': expected tcp:HOST:PORT or unix:/path`);
  else if (u.pathname && u.pathname !== "/") remote = { kind: "unix", path: decodeURIComponent(u.pathname) };
  return { user, host: u.hostname.replace(/^\[|\]$/g, ""), port: u.port ? Number(u.port) : 22, remote };
}

/** Does known_hosts list this host (plain or hashed) with exactly this key blob? */
export function knownHostMatch(knownHosts: string, host: string, port: number, keyBlob: Buffer): "match" | "mismatch" | "unknown" {
  const names = port === 22 ? [host, `[${host}]:22`] : [`[${host}]:${port}`];
  let sawHost = false;
  for (const raw of knownHosts.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const parts = line.split(/\s+/);
    const off = parts[0]!.startsWith("@") ? 1 : 0;
    const [hostsField, , key] = [parts[off], parts[off + 1], parts[off + 2]];
    if (!hostsField || !key) continue;
    const hit = hostsField.split(",").some((h) => {
      if (h.startsWith("|1|")) {
        const [, , salt, hash] = h.split("|");
        return names.some((n) => createHmac("sha1", Buffer.from(salt!, "base64")).update(n).digest("base64") === hash);
      }
      return names.includes(h);
    });
    if (!hit) continue;
    sawHost = true;
    if (parts[0] === "@revoked") continue;
    if (Buffer.from(key, "base64").equals(keyBlob)) return "match";
  }
  return sawHost ? "mismatch" : "unknown";
}

export async function sshTransport(url: string, o: ConnectOptions): Promise<Transport> {
  const env = o.env ?? process.env;
  const t = parseSshHost(url, env);
  const { Client } = await import("ssh2");
  const client = new Client();
  const knownPath = o.knownHostsPath ?? join(homedir(), ".ssh", "known_hosts");
  const known = existsSync(knownPath) ? readFileSync(knownPath, "utf8") : "";
  let hostKeyProblem = "";
  const keyFile = o.identityFile ?? ["id_ed25519", "id_ecdsa", "id_rsa"].map((k) => join(homedir(), ".ssh", k)).find((p) => existsSync(p));
  await new Promise<void>((resolve, reject) => {
    client.once("ready", () => resolve());
    client.once("error", (e: Error) =>
      reject(
        hostKeyProblem
          ? new RefusedError(hostKeyProblem, {
              hint: `check the host key, update ${knownPath}, or pass --insecure-host-key to skip the check (not recommended)`,
            })
          : new DstackError(`ssh to ${t.user}@${t.host}:${t.port} failed: ${e.message}`, {
              hint: "check the host, user and key (ssh-agent or ~/.ssh/id_*)",
            }),
      ),
    );
    client.connect({
      host: t.host,
      port: t.port,
      username: t.user,
      ...(env.SSH_AUTH_SOCK ? { agent: env.SSH_AUTH_SOCK } : {}),
      ...(keyFile && existsSync(keyFile) ? { privateKey: readFileSync(keyFile) } : {}),
      readyTimeout: o.timeoutMs ?? 30_000,
      hostVerifier: (key: Buffer) => {
        if (o.insecureHostKey) {
          o.onWarning?.(`not checking the host key of ${t.host} (--insecure-host-key)`);
          return true;
        }
        const m = knownHostMatch(known, t.host, t.port, key);
        if (m === "match") return true;
        hostKeyProblem =
          m === "mismatch"
            ? `the host key of ${t.host}:${t.port} does not match ${knownPath}: possible man-in-the-middle, refusing`
            : `${t.host}:${t.port} is not in ${knownPath}; refusing an unknown host key`;
        return false;
      },
    });
  });
  const dir = mkdtempSync(join(tmpdir(), "dstack-ssh-"));
  const sock = join(dir, "vmm.sock");
  const server: Server = createServer((local: Socket) => {
    const onStream = (err: Error | undefined, remote: NodeJS.ReadWriteStream & { destroy?: () => void }) => {
      if (err) {
        local.destroy();
        return;
      }
      local.pipe(remote as unknown as NodeJS.WritableStream).on("error", () => {});
      (remote as unknown as NodeJS.ReadableStream).pipe(local).on("error", () => {});
      local.on("close", () => remote.destroy?.());
    };
    if (t.remote.kind === "unix") client.openssh_forwardOutStreamLocal(t.remote.path, onStream as never);
    else client.forwardOut("127.0.0.1", 0, t.remote.host, t.remote.port, onStream as never);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(sock, () => resolve());
  });
  const inner = unixTransport(sock);
  const target = t.remote.kind === "unix" ? t.remote.path : `${t.remote.host}:${t.remote.port}`;
  return {
    endpoint: `ssh://${t.user}@${t.host}:${t.port} → ${target}`,
    fetch: inner.fetch,
    close() {
      server.close();
      client.end();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
