/**
 * A throwaway Debian machine with a real systemd as PID 1, for the e2e suite:
 * debootstrap a rootfs once (cached outside the repo), boot it with
 * `systemd-nspawn --boot --volatile=overlay` (every change is discarded at
 * exit), bind dist/ read-only at /opt/dstack, run commands inside with nsenter.
 * Needs root, debootstrap and systemd-container.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";

export const ROOTFS_CACHE = process.env.DSTACK_E2E_ROOTFS ?? "/var/cache/dstack-e2e/rootfs";
const MIRROR = process.env.DSTACK_E2E_MIRROR ?? "http://deb.debian.org/debian";

export interface Exec {
  code: number;
  stdout: string;
  stderr: string;
}

export async function ensureRootfs(log: (s: string) => void = () => {}): Promise<string> {
  if (existsSync(join(ROOTFS_CACHE, "usr/lib/systemd/systemd"))) return ROOTFS_CACHE;
  const tmp = `${ROOTFS_CACHE}.tmp-${process.pid}`;
  mkdirSync(join(ROOTFS_CACHE, ".."), { recursive: true });
  log(`debootstrap bookworm into ${ROOTFS_CACHE} (once; cached)`);
  const p = Bun.spawn(["debootstrap", "--variant=minbase", "--include=systemd,systemd-sysv,dbus", "bookworm", tmp, MIRROR], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`debootstrap failed (${code}): ${(out + err).split("\n").slice(-5).join("\n")}`);
  }
  renameSync(tmp, ROOTFS_CACHE);
  return ROOTFS_CACHE;
}

export class Machine {
  private constructor(
    readonly name: string,
    private proc: Bun.Subprocess,
    readonly leader: number,
  ) {}

  static async boot(rootfs: string, binds: [string, string][]): Promise<Machine> {
    const name = `dstack-e2e-${process.pid}`;
    const args = ["systemd-nspawn", "--boot", "-D", rootfs, "--volatile=overlay", "--machine", name, "--register=no", "--keep-unit", "-q"];
    for (const [host, guest] of binds) args.push(`--bind-ro=${host}:${guest}`);
    const proc = Bun.spawn(args, { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
    let leader = 0;
    const deadline = performance.now() + 60_000;
    while (performance.now() < deadline) {
      const kids = Bun.spawnSync(["pgrep", "-P", String(proc.pid)])
        .stdout.toString()
        .trim()
        .split("\n")
        .filter(Boolean);
      if (kids[0]) {
        leader = Number(kids[0]);
        const comm = readFileSync(`/proc/${leader}/comm`, "utf8").trim();
        if (comm === "systemd") break;
      }
      await Bun.sleep(100);
    }
    if (!leader) {
      proc.kill();
      throw new Error(`systemd-nspawn did not start a machine: ${await new Response(proc.stderr).text()}`);
    }
    const m = new Machine(name, proc, leader);
    while (performance.now() < deadline) {
      const r = await m.exec(["systemctl", "is-system-running"]);
      if (/^(running|degraded)/.test(r.stdout.trim())) return m;
      await Bun.sleep(200);
    }
    await m.stop();
    throw new Error("the machine's systemd did not reach running within 60 s");
  }

  async exec(argv: string[], env: Record<string, string> = {}): Promise<Exec> {
    const p = Bun.spawn(
      [
        "nsenter",
        "-t",
        String(this.leader),
        "-a",
        "/usr/bin/env",
        "-i",
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME=/root",
        "NO_COLOR=1",
        ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
        ...argv,
      ],
      {
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
        timeout: 300_000,
      },
    );
    const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    return { code, stdout, stderr };
  }

  async stop(): Promise<void> {
    this.proc.kill("SIGTERM");
    const t = setTimeout(() => this.proc.kill("SIGKILL"), 20_000);
    await this.proc.exited;
    clearTimeout(t);
  }
}
