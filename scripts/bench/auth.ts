#!/usr/bin/env bun
/**
 * dstack-auth throughput and latency vs a bare Bun.serve constant-200 ceiling,
 * same run, same load generator (wrk, 50 connections, 10 s each), ROUNDS times (default 3):
 * allowlist of 1,000 apps × 3 hashes, every request takes the allowed path.
 *
 * LOG_FILES=1 adds, in the same rounds, dstack-auth logging every decision to a file: stderr
 * appended to it (as a detached install ran it before --log-file: unbounded) against --log-file
 * with its default cap (10 MiB × 3 generations, rotating every few seconds at these rates) and
 * against --log-file with a 1 MiB cap (rotating several times a second).
 *
 * COMPARE=PATH adds, in the same rounds (before ours in even rounds, after it in odd ones), another build of dstack-auth (PATH, a
 * binary named dstack-auth, e.g. main's before a change) serving the same allowlist: its ratio to
 * the same round's ceiling, beside ours, so a change is judged within one run on a loaded machine.
 */
import { closeSync, mkdtempSync, openSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const DIST = join(import.meta.dir, "..", "..", "dist");
const DURATION = process.env.DURATION ?? "10s";
const dir = mkdtempSync(join(tmpdir(), "bench-auth-"));
const hex = (n: number, len: number) => n.toString(16).padStart(len, "0");
const apps: Record<string, unknown> = {};
for (let i = 0; i < 1000; i++)
  apps[hex(i, 40)] = { composeHashes: [hex(i * 3, 64), hex(i * 3 + 1, 64), hex(i * 3 + 2, 64)], devices: [], allowAnyDevice: true };
const img = hex(7, 64);
writeFileSync(join(dir, "allow.json"), JSON.stringify({ osImages: [img], apps }, null, 2));
const body = JSON.stringify({
  teeVariant: "dstack-tdx",
  mrAggregated: hex(1, 64),
  osImageHash: img,
  mrSystem: "",
  appId: hex(777, 40),
  composeHash: hex(777 * 3 + 2, 64),
  instanceId: hex(5, 40),
  deviceId: hex(9, 64),
  keyProviderInfo: "",
  tcbStatus: "UpToDate",
  advisoryIds: [],
});
writeFileSync(
  join(dir, "post.lua"),
  `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\nwrk.headers["Content-Type"] = "application/json"\n`,
);
writeFileSync(
  join(dir, "ceiling.ts"),
  `Bun.serve({ hostname: "127.0.0.1", port: Number(process.argv[2]), fetch: () => new Response('{"ok":true}', { headers: { "content-type": "application/json" } }) });`,
);
// For context, not the target: the same bare server that also reads and parses the body,
// which any webhook must do; it shows how much of the gap the body alone takes.
writeFileSync(
  join(dir, "body.ts"),
  `Bun.serve({ hostname: "127.0.0.1", port: Number(process.argv[2]), fetch: async (r) => { JSON.parse(await r.text()); return new Response('{"ok":true}', { headers: { "content-type": "application/json" } }); } });`,
);

async function waitUp(port: number) {
  for (let i = 0; i < 200; i++) {
    try {
      await fetch(`http://127.0.0.1:${port}/`);
      return;
    } catch {
      await Bun.sleep(25);
    }
  }
  throw new Error(`nothing on ${port}`);
}

function parseWrk(out: string) {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const ms = (s: string | undefined) => {
    if (!s) return NaN;
    const m = /([\d.]+)(us|ms|s)/.exec(s)!;
    return Number(m[1]) * (m[2] === "us" ? 0.001 : m[2] === "s" ? 1000 : 1);
  };
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  return { rps, p50: ms(/\s50%\s+(\S+)/.exec(out)?.[1]), p99: ms(/\s99%\s+(\S+)/.exec(out)?.[1]), non2xx };
}

async function load(port: number, path: string) {
  const p = Bun.spawn(
    ["wrk", "-t2", "-c50", `-d${DURATION}`, "--latency", "-s", join(dir, "post.lua"), `http://127.0.0.1:${port}${path}`],
    { stdout: "pipe", stderr: "pipe" },
  );
  const out = await new Response(p.stdout).text();
  await p.exited;
  return parseWrk(out);
}

const ours = 31000 + Math.floor(Math.random() * 1000);
const ceil = ours + 1;
const bodyPort = ours + 2;
const auth = Bun.spawn([join(DIST, "dstack-auth"), "--config", join(dir, "allow.json"), "--port", String(ours)], {
  stdout: "ignore",
  stderr: "ignore",
});
// LOG_FILES=1: the same server logging to files (see the header)
const logFiles = process.env.LOG_FILES === "1";
const logged = (port: number, name: string, args: string[]) => {
  const fd = openSync(join(dir, `${name}.log`), "a", 0o640);
  const p = Bun.spawn([join(DIST, "dstack-auth"), "--config", join(dir, "allow.json"), "--port", String(port), ...args], {
    stdout: fd,
    stderr: fd,
  });
  closeSync(fd);
  return p;
};
const withLogs = logFiles
  ? [
      { name: "stderr", label: "dstack-auth, stderr appended to a file (before):", port: ours + 3, args: [] as string[] },
      {
        name: "capped",
        label: "dstack-auth --log-file (10 MiB × 3, after):    ",
        port: ours + 4,
        args: ["--log-file", join(dir, "capped.log")],
      },
      {
        name: "small",
        label: "dstack-auth --log-file --log-max-size 1M:     ",
        port: ours + 5,
        args: ["--log-file", join(dir, "small.log"), "--log-max-size", "1M"],
      },
    ].map((l) => ({ ...l, proc: logged(l.port, l.name, l.args), rps: [] as number[], p99: [] as number[] }))
  : [];
const comparePath = process.env.COMPARE;
const other = comparePath
  ? {
      port: ours + 6,
      proc: Bun.spawn([comparePath, "--config", join(dir, "allow.json"), "--port", String(ours + 6)], {
        stdout: "ignore",
        stderr: "ignore",
      }),
      ratios: [] as number[],
      p99: [] as number[],
    }
  : undefined;
const bare = Bun.spawn([process.execPath, join(dir, "ceiling.ts"), String(ceil)], { stdout: "ignore", stderr: "ignore" });
const bodyOnly = Bun.spawn([process.execPath, join(dir, "body.ts"), String(bodyPort)], { stdout: "ignore", stderr: "ignore" });
try {
  await waitUp(ours);
  await waitUp(ceil);
  await waitUp(bodyPort);
  for (const l of withLogs) await waitUp(l.port);
  if (other) await waitUp(other.port);
  const check = (await (
    await fetch(`http://127.0.0.1:${ours}/bootAuth/app`, { method: "POST", headers: { "content-type": "application/json" }, body })
  ).json()) as { isAllowed: boolean };
  if (!check.isAllowed) throw new Error(`the bench request is not allowed: ${JSON.stringify(check)}`);
  // ROUNDS pairs (default 3), each ours then the ceiling back to back, 10 s each; the
  // figure is the median of the per-round ratios (this machine's speed drifts between runs).
  const rounds = Number(process.env.ROUNDS ?? 3);
  const f = (x: number) => x.toFixed(2);
  const ratios: number[] = [];
  const p99s: number[] = [];
  for (let i = 1; i <= rounds; i++) {
    // with COMPARE, the two builds take turns going first
    const o0 = other && i % 2 === 0 ? await load(other.port, "/bootAuth/app") : undefined;
    const a = await load(ours, "/bootAuth/app");
    const o = other && !o0 ? await load(other.port, "/bootAuth/app") : o0;
    const b = await load(ceil, "/");
    const c = await load(bodyPort, "/");
    ratios.push(a.rps / b.rps);
    p99s.push(a.p99);
    console.log(`round ${i}/${rounds}`);
    console.log(
      `  dstack-auth (1,000 apps × 3 hashes, 50 conns, ${DURATION}): ${a.rps.toFixed(0)} req/s, p50 ${f(a.p50)} ms, p99 ${f(a.p99)} ms${a.non2xx ? `, ${a.non2xx} non-2xx!` : ""}`,
    );
    console.log(`  bare Bun.serve ceiling:                          ${b.rps.toFixed(0)} req/s, p50 ${f(b.p50)} ms, p99 ${f(b.p99)} ms`);
    console.log(
      `  bare Bun.serve reading the body (context):       ${c.rps.toFixed(0)} req/s, p50 ${f(c.p50)} ms, p99 ${f(c.p99)} ms (${((c.rps / b.rps) * 100).toFixed(1)}% of the ceiling)`,
    );
    if (other && o) {
      other.ratios.push(o.rps / b.rps);
      other.p99.push(o.p99);
      console.log(
        `  COMPARE (${comparePath}): ${o.rps.toFixed(0)} req/s, p50 ${f(o.p50)} ms, p99 ${f(o.p99)} ms, ${((o.rps / b.rps) * 100).toFixed(1)}% of the ceiling`,
      );
    }
    console.log(`  ratio: ${((a.rps / b.rps) * 100).toFixed(1)}% of the ceiling`);
    for (const l of withLogs) {
      const r = await load(l.port, "/bootAuth/app");
      l.rps.push(r.rps);
      l.p99.push(r.p99);
      console.log(
        `  ${l.label} ${r.rps.toFixed(0)} req/s, p50 ${f(r.p50)} ms, p99 ${f(r.p99)} ms${r.non2xx ? `, ${r.non2xx} non-2xx!` : ""}`,
      );
    }
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  console.log(
    `median ratio over ${rounds} round(s): ${(median(ratios) * 100).toFixed(1)}% of the ceiling (target ≥ 60%); median p99 ${f(median(p99s))} ms (target < 5 ms)`,
  );
  if (other)
    console.log(
      `COMPARE median ratio: ${(median(other.ratios) * 100).toFixed(1)}% of the ceiling; median p99 ${f(median(other.p99))} ms; ours/COMPARE per round: ${ratios.map((r, i) => (r / other.ratios[i]!).toFixed(2)).join(" ")}`,
    );
  for (const l of withLogs) {
    const files = readdirSync(dir).filter((n) => n.startsWith(`${l.name}.log`));
    const sizes = files.map((n) => `${n} ${(statSync(join(dir, n)).size / 2 ** 20).toFixed(1)} MiB`).join(", ");
    console.log(`${l.label} median ${median(l.rps).toFixed(0)} req/s, median p99 ${f(median(l.p99))} ms; files: ${sizes}`);
  }
} finally {
  for (const l of withLogs) l.proc.kill();
  other?.proc.kill();
  auth.kill();
  bare.kill();
  bodyOnly.kill();
}
