#!/usr/bin/env bun
/**
 * dstack-auth under a hostile load, against the compiled binary: REQUESTS (default 10,000)
 * fuzzed requests (random bodies, headers, methods and paths, with a valid decision request
 * among them) from 20 clients, while a writer thread publishes allowlist versions by rename
 * in a tight loop, every third one invalid (bad JSON, `"apps": [...]`, an unknown key, in
 * turn). Prints: whether the server stayed up, the answers that were not JSON of the right
 * shape, stale decisions (decided by a version older than the last one published before the
 * request was sent), allows under an invalid version (an allow, although the last version
 * published before the request was sent was invalid, by a version not newer than it), and denies for any reason but "allowlist unavailable" (every valid version
 * allows the decision request). All but the first must be 0.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const DIST = join(import.meta.dir, "..", "..", "dist");
const REQUESTS = Number(process.env.REQUESTS ?? 10_000);
const dir = mkdtempSync(join(tmpdir(), "bench-auth-stress-"));
const path = join(dir, "allow.json");
const APP = "ab".repeat(20);
const HASH = "cd".repeat(32);
writeFileSync(path, JSON.stringify({ gatewayAppId: "0", apps: { [APP]: { composeHashes: [HASH] } } }));

// The writer: version n (n % 3 === 2: invalid) by rename; slot 0 = the last completed, slot 1 = stop.
const writer = `
import { renameSync, writeFileSync } from "node:fs";
self.onmessage = (e) => {
  const { path, shared } = e.data;
  const slots = new Int32Array(shared);
  const bad = ['{"apps":', '{"apps":[{"composeHashes":["${HASH}"]}]}', '{"osImage":[],"apps":{}}'];
  for (let n = 1; Atomics.load(slots, 1) === 0; n++) {
    const text = n % 3 === 2 ? bad[n % bad.length] : JSON.stringify({ gatewayAppId: n.toString(16), apps: { "${APP}": { composeHashes: ["${HASH}"] } } });
    writeFileSync(path + ".tmp", text);
    renameSync(path + ".tmp", path);
    Atomics.store(slots, 0, n);
  }
  self.postMessage("stopped");
};`;
writeFileSync(join(dir, "writer.ts"), writer);
const isInvalid = (n: number) => n % 3 === 2;

const port = 32000 + Math.floor(Math.random() * 1000);
const auth = Bun.spawn([join(DIST, "dstack-auth"), "--config", path, "--port", String(port)], { stdout: "ignore", stderr: "ignore" });
const url = `http://127.0.0.1:${port}`;
for (let i = 0; ; i++) {
  try {
    if ((await fetch(`${url}/`)).ok) break;
  } catch {
    if (i > 300) throw new Error("dstack-auth did not start");
    await Bun.sleep(20);
  }
}

const shared = new SharedArrayBuffer(8);
const slots = new Int32Array(shared);
const worker = new Worker(join(dir, "writer.ts"));
const stopped = new Promise((r) => (worker.onmessage = r));
worker.postMessage({ path, shared });

let seed = 1;
const rnd = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]!;
const decision = JSON.stringify({ appId: APP, composeHash: HASH });
const bodies = [
  () => decision,
  () => decision,
  () => "{",
  () => "[]",
  () => JSON.stringify({ appId: 5 }),
  () => "x".repeat(Math.floor(rnd() * 200_000)),
  () => new Uint8Array(Array.from({ length: 64 }, () => Math.floor(rnd() * 256))),
];
let sent = 0;
let badShape = 0;
let stale = 0;
let allowsUnderInvalid = 0;
let wrong = 0;
let decisions = 0;
const client = async () => {
  while (sent < REQUESTS) {
    sent++;
    const route = pick(["/bootAuth/app", "/bootAuth/app", "/bootAuth/kms", "/", "/nope"]);
    const method = route === "/" ? pick(["GET", "POST"]) : pick(["POST", "POST", "POST", "PUT"]);
    const body = method === "GET" ? undefined : pick(bodies)();
    const isDecision = route === "/bootAuth/app" && method === "POST" && body === decision;
    const atSend = Atomics.load(slots, 0);
    const r = await fetch(`${url}${route}`, {
      method,
      headers: { "content-type": pick(["application/json", "text/plain", "application/json"]) },
      ...(body === undefined ? {} : { body }),
    });
    let j: Record<string, unknown>;
    try {
      j = (await r.json()) as Record<string, unknown>;
    } catch {
      badShape++;
      continue;
    }
    if (r.status === 200 && typeof j.isAllowed !== "boolean" && j.status !== "ok") badShape++;
    if (r.status !== 200 && typeof j.error !== "string") badShape++;
    if (!isDecision || r.status !== 200) continue;
    decisions++;
    if (j.isAllowed === true) {
      const by = Number.parseInt(String(j.gatewayAppId), 16);
      if (!(by >= atSend)) stale++;
      // an allow must come from a valid version at least as new as the one published before the send
      // (newer is fine: the writer renames before it counts); when that one was invalid, only a later one may allow
      if (isInvalid(atSend) && !(by > atSend)) allowsUnderInvalid++;
    } else if (!String(j.reason).startsWith("allowlist unavailable")) {
      wrong++; // every valid version allows this request; only an invalid one may deny it
    }
  }
};
const t0 = performance.now();
await Promise.all(Array.from({ length: 20 }, client));
const secs = (performance.now() - t0) / 1000;
Atomics.store(slots, 1, 1);
await stopped;
worker.terminate();
const up = auth.exitCode === null && (await fetch(`${url}/`)).ok;
auth.kill();
console.log(
  `${sent} fuzzed requests in ${secs.toFixed(1)} s (${decisions} of them decision requests) while ${Atomics.load(slots, 0)} allowlist versions were renamed in (every third invalid):`,
);
console.log(
  `  server up: ${up}; answers not JSON of the right shape: ${badShape}; stale decisions: ${stale}; allows under an invalid version: ${allowsUnderInvalid}; other wrong decisions: ${wrong}`,
);
if (!up || badShape || stale || allowsUnderInvalid || wrong) process.exitCode = 1;
