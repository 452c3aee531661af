/**
 * A private OpenSSH server on 127.0.0.1 (Debian's openssh-server): its own host key,
 * authorized_keys and config in a temp dir, the compiled binaries first on its sessions' PATH,
 * and a laptop-side HOME whose ~/.ssh holds the client key and known_hosts. Runs as this user
 * (root in .ci/run): it logs in as that user.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { DIST } from "./run.ts";

export const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface Sshd {
  port: number;
  /** the listener's pid */
  pid: number;
  user: string;
  /** the laptop's HOME: .ssh/id_ed25519, .ssh/known_hosts (this server's key) */
  home: string;
  hostPublicKey: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

function keygen(path: string): void {
  const r = Bun.spawnSync(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", path]);
  if (r.exitCode !== 0) throw new Error(`ssh-keygen failed: ${r.stderr.toString()}`);
}

/** `path`: the sessions' PATH (default: the compiled binaries first, then the system's); `env`: more of the sessions' environment. */
export async function startSshd(o: { path?: string; env?: Record<string, string> } = {}): Promise<Sshd> {
  const dir = mkdtempSync(join(tmpdir(), "sshd-"));
  const home = mkdtempSync(join(tmpdir(), "laptop-"));
  mkdirSync(join(home, ".ssh"), { mode: 0o700 });
  mkdirSync("/run/sshd", { recursive: true }); // sshd's privilege separation directory
  keygen(join(dir, "host_ed25519"));
  keygen(join(home, ".ssh", "id_ed25519"));
  // sshd reads authorized_keys as the user logging in: readable by any (test/client/remote-sudo.test.ts logs in as another)
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, "authorized_keys"), readFileSync(join(home, ".ssh", "id_ed25519.pub")), { mode: 0o644 });
  const port = await freePort();
  writeFileSync(
    join(dir, "sshd_config"),
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${join(dir, "host_ed25519")}`,
      `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      "UsePAM no",
      "StrictModes no",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PermitRootLogin prohibit-password",
      "AllowTcpForwarding yes",
      `SetEnv PATH=${o.path ?? `${DIST}:${SYSTEM_PATH}`}${Object.entries(o.env ?? {})
        .map(([k, v]) => ` ${k}=${v}`)
        .join("")}`,
      "",
    ].join("\n"),
  );
  const hostPublicKey = readFileSync(join(dir, "host_ed25519.pub"), "utf8").trim();
  writeFileSync(join(home, ".ssh", "known_hosts"), `[127.0.0.1]:${port} ${hostPublicKey}\n`);
  const proc = Bun.spawn(["/usr/sbin/sshd", "-D", "-e", "-f", join(dir, "sshd_config")], { stdout: "ignore", stderr: "pipe" });
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = require("node:net").connect(port, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (up) break;
    if (proc.exitCode !== null) throw new Error(`sshd exited: ${await new Response(proc.stderr).text()}`);
    await Bun.sleep(50);
  }
  return {
    port,
    pid: proc.pid,
    user: process.getuid?.() === 0 ? "root" : userInfo().username,
    home,
    hostPublicKey,
    stop: async () => {
      proc.kill();
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
    },
  };
}
