#!/usr/bin/env bun
/**
 * Remote-host bench (issue 19), one run, same machine: `dist/dstack --host ssh://… ps` against a
 * simulated install behind a private OpenSSH sshd on loopback (test/helpers/sshd.ts), vs
 * `ssh host dstack --prefix P ps` — the same work through OpenSSH's own client: one SSH session,
 * the host's dstack reading its install and asking its VMM. Samples alternate, so both see the
 * same load. Target ≤ 1.2×. RUNS=N sets the sample count (default 30); VMS=N how many VMs the
 * host runs besides the KMS (default 10).
 */
import { loadavg } from "node:os";
import { join } from "node:path";
import { simInstall } from "../../test/helpers/sim-install.ts";
import { startSshd } from "../../test/helpers/sshd.ts";

const DIST = join(import.meta.dir, "..", "..", "dist");
const N = Number(process.env.RUNS ?? 30);
const VMS = Number(process.env.VMS ?? 10);
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const [sshd, inst] = await Promise.all([startSshd(), simInstall("bench-remote")]);
try {
  for (let i = 0; i < VMS; i++) {
    const r = await inst.dstack(["run", `img${i}`, "-n", `b${i}`, "--detach", "-q"]);
    if (r.code !== 0) throw new Error(`run: ${r.stderr}`);
  }
  const env = { ...process.env, HOME: sshd.home, SSH_AUTH_SOCK: "", NO_COLOR: "1", DSTACK_HOST: "", DSTACK_CONTEXT: "" };
  const ours = [join(DIST, "dstack"), "--host", `ssh://${sshd.user}@127.0.0.1:${sshd.port}?prefix=${inst.prefix}`, "ps"];
  const openssh = ["ssh", "-F", "/dev/null", "-o", "BatchMode=yes", "-o", `UserKnownHostsFile=${join(sshd.home, ".ssh", "known_hosts")}`];
  const theirs = [...openssh, "-i", join(sshd.home, ".ssh", "id_ed25519"), "-p", String(sshd.port), `${sshd.user}@127.0.0.1`];
  const viaSsh = [...theirs, `dstack --prefix ${inst.prefix} ps`];
  // OpenSSH 9 negotiates sntrup761x25519 (post-quantum hybrid) by default; ssh2 curve25519-sha256: the like-for-like baseline
  const viaSshX25519 = [
    ...theirs.slice(0, 1),
    "-o",
    "KexAlgorithms=curve25519-sha256",
    ...theirs.slice(1),
    `dstack --prefix ${inst.prefix} ps`,
  ];
  const time = (argv: string[]) => {
    const t = performance.now();
    const p = Bun.spawnSync(argv, { env });
    const ms = performance.now() - t;
    if (p.exitCode !== 0) throw new Error(`${argv.join(" ")}: exit ${p.exitCode}: ${p.stderr.toString()}`);
    return { ms, out: p.stdout.toString() };
  };
  // the same table both ways (a warm-up, and a check that both did the work)
  const ids = (out: string) => out.split("\n").map((l) => l.split(/\s{2,}/)[1] ?? "");
  const [a, b] = [time(ours).out, time(viaSsh).out];
  if (ids(a).join() !== ids(b).join() || !a.includes("dstack-kms")) throw new Error(`the two ps outputs differ:\n${a}\n---\n${b}`);
  const mine: number[] = [];
  const base: number[] = [];
  const x25519: number[] = [];
  const start: number[] = [];
  for (let i = 0; i < N; i++) {
    mine.push(time(ours).ms);
    base.push(time(viaSsh).ms);
    x25519.push(time(viaSshX25519).ms);
    start.push(time([join(DIST, "dstack"), "--version"]).ms);
  }
  const [m, o, x] = [med(mine), med(base), med(x25519)];
  const line = (what: string, xs: number[]) =>
    console.log(`${what.padEnd(44)} ${med(xs).toFixed(1)} ms median over ${N} (min ${Math.min(...xs).toFixed(1)})`);
  line("dstack --host ssh://… ps", mine);
  line("ssh host dstack ps", base);
  line("ssh -o KexAlgorithms=curve25519-sha256 …", x25519);
  line("(for the load) dstack --version", start);
  console.log(
    `ratio ${(m / o).toFixed(2)}× against ssh's defaults, ${(m / x).toFixed(2)}× against the same key exchange (target ≤ 1.2×); ${VMS + 1} VMs on the host; load average ${loadavg()[0]!.toFixed(1)}`,
  );
} finally {
  await inst.destroy();
  await sshd.stop();
}
