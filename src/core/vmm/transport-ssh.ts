/**
 * `ssh://user@host[:port][?prefix=/opt/dstack]`: an ssh2 connection (agent, ~/.ssh/config's
 * IdentityFile or the default keys; host key checked against known_hosts unless
 * insecureHostKey; ProxyJump hops) and a private local unix socket; each connection to it is
 * an exec channel running `dstack system dial-stdio` on the host (docker's `-H ssh://`), which
 * speaks to the host's VMM with the host's token and does the host's allowlist work there.
 * `/remote/vmm.sock` or `?target=tcp:127.0.0.1:9080|unix:/path` forward to a VMM socket
 * instead (streamlocal or direct-tcpip; the token and allowlist are then the caller's).
 * Loaded lazily: nothing else pays for ssh2.
 */
import { createHmac } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { DstackError, RefusedError, UsageError } from "../errors.ts";
import type { Env } from "../io.ts";
import { checkDir } from "../layout.ts";
import { parseJumpHop, resolveSshConfig } from "../ssh-config.ts";
import type { ConnectOptions, Transport } from "./transport.ts";
import { unixTransport } from "./transport-unix.ts";

export interface SshTarget {
  user: string;
  host: string;
  port: number;
  remote: { kind: "unix"; path: string } | { kind: "tcp"; host: string; port: number } | { kind: "dial" };
  /** ?prefix=: the host's install layout root (dial only) */
  prefix?: string;
  /** ~/.ssh/config's IdentityFile lines for this host */
  identityFiles?: string[];
  /** ~/.ssh/config's ProxyJump hops */
  proxyJump?: string[];
}

/** Is this host URL served by `dstack system dial-stdio` on the host (no VMM socket or target named)? */
export function isDialHost(url: string): boolean {
  if (!url.startsWith("ssh://")) return false;
  try {
    return parseSshHost(url, {}).remote.kind === "dial";
  } catch {
    return false;
  }
}

const shq = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

/**
 * The shell line an exec channel runs on the host: the install's own bin directory first on
 * PATH, and `sudo -n` when the login is not root and the install's config directory is not
 * writable by it (a root install).
 */
export function dialCommand(prefix: string | undefined): string {
  const bin = prefix ? `${prefix}/bin` : "/usr/local/bin";
  const config = prefix ? `${prefix}/etc/dstack` : "/etc/dstack";
  const args = `system dial-stdio${prefix ? ` --prefix ${shq(prefix)}` : ""}`;
  return (
    `PATH=${shq(bin)}:"$PATH"; d=$(command -v dstack) || { echo "dstack: not installed on this host" >&2; exit 127; }; ` +
    `if [ "$(id -u)" != 0 ] && [ ! -w ${shq(config)} ]; then exec sudo -n "$d" ${args}; else exec "$d" ${args}; fi`
  );
}

/**
 * The URL with ~/.ssh/config (its text given) applied: an alias's HostName, User, Port,
 * IdentityFile and ProxyJump, as `ssh ALIAS` would use them; the URL's own user and port win.
 */
export function parseSshHost(url: string, env: Env = process.env, sshConfig = "", home = ""): SshTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`invalid ssh host '${url}': expected ssh://user@host[:port][/path/to/vmm.sock]`);
  }
  if (!u.hostname) throw new UsageError(`invalid ssh host '${url}': no host`);
  const alias = u.hostname.replace(/^\[|\]$/g, "");
  const cfg = resolveSshConfig(sshConfig, alias, home);
  const user = decodeURIComponent(u.username) || cfg.user || env.USER || "root";
  const target = u.searchParams.get("target");
  const prefix = u.searchParams.get("prefix") ?? undefined;
  if (prefix !== undefined) checkDir("?prefix=", prefix);
  let remote: SshTarget["remote"] = { kind: "dial" };
  if (target?.startsWith("unix:")) remote = { kind: "unix", path: target.slice(5) };
  else if (target?.startsWith("tcp:")) {
    const m = /^tcp:(.+):(\d+)$/.exec(target);
    if (!m) throw new UsageError(`invalid ssh target '${target}': expected tcp:HOST:PORT or unix:/path`);
    remote = { kind: "tcp", host: m[1]!.replace(/^\[|\]$/g, ""), port: Number(m[2]) };
  } else if (target) throw new UsageError(`invalid ssh target '${target}': expected tcp:HOST:PORT or unix:/path`);
  else if (u.pathname && u.pathname !== "/") remote = { kind: "unix", path: decodeURIComponent(u.pathname) };
  if (prefix !== undefined && remote.kind !== "dial")
    throw new UsageError(`invalid ssh host '${url}': ?prefix= goes with neither ?target= nor a socket path`);
  return {
    user,
    host: cfg.hostName ?? alias,
    port: u.port ? Number(u.port) : (cfg.port ?? 22),
    remote,
    ...(prefix ? { prefix } : {}),
    ...(cfg.identityFiles.length ? { identityFiles: cfg.identityFiles } : {}),
    ...(cfg.proxyJump?.length ? { proxyJump: cfg.proxyJump } : {}),
  };
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

type SshClient = import("ssh2").Client;

interface Hop {
  user: string;
  host: string;
  port: number;
  identityFiles: string[];
}

/** One authenticated ssh2 connection to `hop`, over `sock` (a previous hop's forward) when given. */
async function connectHop(hop: Hop, o: ConnectOptions, env: Env, home: string, sock?: NodeJS.ReadableStream): Promise<SshClient> {
  const { Client } = await import("ssh2");
  const client = new Client();
  const knownPath = o.knownHostsPath ?? join(home, ".ssh", "known_hosts");
  const known = existsSync(knownPath) ? readFileSync(knownPath, "utf8") : "";
  let hostKeyProblem = "";
  const keyFile =
    o.identityFile ??
    [...hop.identityFiles, ...["id_ed25519", "id_ecdsa", "id_rsa"].map((k) => join(home, ".ssh", k))].find((p) => existsSync(p));
  await new Promise<void>((resolve, reject) => {
    client.once("ready", () => resolve());
    client.once("error", (e: Error) =>
      reject(
        hostKeyProblem
          ? new RefusedError(hostKeyProblem, {
              hint: `check the host key, update ${knownPath}, or pass --insecure-host-key to skip the check (not recommended)`,
            })
          : new DstackError(`ssh to ${hop.user}@${hop.host}:${hop.port} failed: ${e.message}`, {
              hint: "check the host, user and key (ssh-agent, ~/.ssh/config's IdentityFile or ~/.ssh/id_*)",
            }),
      ),
    );
    client.connect({
      host: hop.host,
      port: hop.port,
      username: hop.user,
      ...(sock ? { sock: sock as never } : {}),
      ...(env.SSH_AUTH_SOCK ? { agent: env.SSH_AUTH_SOCK } : {}),
      ...(keyFile && existsSync(keyFile) ? { privateKey: readFileSync(keyFile) } : {}),
      readyTimeout: o.timeoutMs ?? 30_000,
      hostVerifier: (key: Buffer) => {
        if (o.insecureHostKey) {
          o.onWarning?.(`not checking the host key of ${hop.host} (--insecure-host-key)`);
          return true;
        }
        const m = knownHostMatch(known, hop.host, hop.port, key);
        if (m === "match") return true;
        hostKeyProblem =
          m === "mismatch"
            ? `the host key of ${hop.host}:${hop.port} does not match ${knownPath}: possible man-in-the-middle, refusing`
            : `${hop.host}:${hop.port} is not in ${knownPath}; refusing an unknown host key`;
        return false;
      },
    });
  });
  return client;
}

/** The connection to the target, through its ProxyJump hops (each resolved in ~/.ssh/config too). */
async function connectChain(t: SshTarget, o: ConnectOptions, env: Env, home: string, sshConfig: string): Promise<SshClient[]> {
  const hops: Hop[] = (t.proxyJump ?? []).map((h) => {
    const j = parseJumpHop(h);
    const cfg = resolveSshConfig(sshConfig, j.host, home);
    return {
      user: j.user ?? cfg.user ?? env.USER ?? "root",
      host: cfg.hostName ?? j.host,
      port: j.port ?? cfg.port ?? 22,
      identityFiles: cfg.identityFiles,
    };
  });
  hops.push({ user: t.user, host: t.host, port: t.port, identityFiles: t.identityFiles ?? [] });
  const chain: SshClient[] = [];
  try {
    for (const hop of hops) {
      const prev = chain.at(-1);
      const sock = prev
        ? await new Promise<NodeJS.ReadableStream>((resolve, reject) =>
            prev.forwardOut("127.0.0.1", 0, hop.host, hop.port, (err, stream) =>
              err ? reject(new DstackError(`ssh jump to ${hop.host}:${hop.port} failed: ${err.message}`)) : resolve(stream),
            ),
          )
        : undefined;
      chain.push(await connectHop(hop, o, env, home, sock));
    }
  } catch (e) {
    for (const c of chain.reverse()) c.end();
    throw e;
  }
  return chain;
}

export async function sshTransport(url: string, o: ConnectOptions): Promise<Transport> {
  const env = o.env ?? process.env;
  const home = env.HOME || homedir();
  const configPath = join(home, ".ssh", "config");
  const sshConfig = existsSync(configPath) ? readFileSync(configPath, "utf8") : "";
  const t = parseSshHost(url, env, sshConfig, home);
  const chain = await connectChain(t, o, env, home, sshConfig);
  const client = chain.at(-1)!;
  const dir = mkdtempSync(join(tmpdir(), "dstack-ssh-"));
  const sock = join(dir, "vmm.sock");
  /** What the host's side said when it could not serve (no dstack there, sudo refused). */
  let remoteProblem: { said: string; code: number } | undefined;
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
    if (t.remote.kind === "dial") {
      client.exec(dialCommand(t.prefix), (err, stream) => {
        if (!err) {
          let said = "";
          stream.stderr.on("data", (d: Buffer) => {
            said += d.toString();
          });
          stream.on("exit", (code: number | null) => {
            if (code) remoteProblem = { said: said.trim() || `exit ${code}`, code };
          });
        }
        onStream(err, stream as never);
      });
    } else if (t.remote.kind === "unix") client.openssh_forwardOutStreamLocal(t.remote.path, onStream as never);
    else client.forwardOut("127.0.0.1", 0, t.remote.host, t.remote.port, onStream as never);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(sock, () => resolve());
  });
  const inner = unixTransport(sock);
  const name = `ssh://${t.user}@${t.host}:${t.port}`;
  const target =
    t.remote.kind === "dial"
      ? `dstack system dial-stdio${t.prefix ? ` --prefix ${t.prefix}` : ""}`
      : t.remote.kind === "unix"
        ? t.remote.path
        : `${t.remote.host}:${t.remote.port}`;
  return {
    endpoint: `${name} → ${target}`,
    ...(t.remote.kind === "dial" ? { dial: true } : {}),
    async fetch(path, init) {
      try {
        return await inner.fetch(path, init);
      } catch (e) {
        if (!remoteProblem) throw e;
        // 127: the shell found no dstack; sudo's own words: the login may not run it as root; else the host's dstack said why
        const hint =
          remoteProblem.code === 127
            ? "install dstack on the host (`curl -fsSL <release-url>/install.sh | sh`, see docs/install.md), at this client's version"
            : /^sudo:/m.test(remoteProblem.said)
              ? `the install is root's: give ${t.user} passwordless sudo for \`dstack system dial-stdio${t.prefix ? ` --prefix ${t.prefix}` : ""}\` on the host (see docs/remote.md), or log in as root`
              : undefined;
        throw new DstackError(`${name}: the host's dstack could not serve: ${remoteProblem.said}`, hint ? { hint } : {});
      }
    },
    close() {
      server.close();
      for (const c of chain.reverse()) c.end();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
