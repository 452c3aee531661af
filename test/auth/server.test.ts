/**
 * dstack-auth: the cases of upstream's webhook tests (Dstack-TEE/dstack:
 * dstack/kms/auth-simple/index.test.ts, dstack/crates/dstack-auth/src/main.rs) adapted to our
 * semantics (the Rust webhook's single-operator rules; TCB/advisory checks only
 * when the allowlist opts in), fail-closed behaviour, freshness under renames,
 * bad input, a fuzz run, and the compiled binary with SIGTERM.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DecisionLog, makeWebhook } from "../../src/auth/server.ts";
import { runBin } from "../helpers/run.ts";
import { serveBinary } from "./serve-binary.ts";

const IMG = "0x1fbb0cf9cc6cfbf23d6b779776fabad2c5403d643badb9e5e238615e4960a78a";
const base = {
  teeVariant: "dstack-tdx",
  mrAggregated: "0xabc123",
  osImageHash: IMG,
  appId: "0xapp123",
  composeHash: "0xcompose456",
  instanceId: "0xinstance789",
  deviceId: "0xdevice999",
  tcbStatus: "UpToDate",
  advisoryIds: [] as string[],
  mrSystem: "",
};

function setup(config: unknown) {
  const dir = mkdtempSync(join(tmpdir(), "auth-"));
  const path = join(dir, "auth-allowlist.json");
  writeFileSync(path, typeof config === "string" ? config : JSON.stringify(config));
  const logs: DecisionLog[] = [];
  const changes: unknown[] = [];
  const fetch = makeWebhook(path, { onDecision: (d) => logs.push(d), onAllowlistChange: (l) => changes.push(l) });
  const call = async (route: "app" | "kms", body: unknown, headers: Record<string, string> = { "content-type": "application/json" }) => {
    const r = await fetch(
      new Request(`http://x/bootAuth/${route}`, { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) }),
    );
    return { status: r.status, body: (await r.json()) as { isAllowed: boolean; reason: string; gatewayAppId: string; error?: string } };
  };
  return { path, dir, fetch, call, logs, changes, write: (c: unknown) => writeFileSync(path, JSON.stringify(c)) };
}

describe("decisions (auth-simple's cases adapted, dstack-auth's)", () => {
  test("#1 GET / is the info object with every field the KMS requires; chainId an integer", async () => {
    const s = setup({ gatewayAppId: "0xgateway" });
    const r = await s.fetch(new Request("http://x/"));
    const info = (await r.json()) as Record<string, unknown>;
    expect(r.status).toBe(200);
    expect(info).toEqual({ status: "ok", kmsContractAddr: "", ethRpcUrl: "", gatewayAppId: "", chainId: 0, appImplementation: "" });
    expect(Number.isInteger(info.chainId)).toBe(true);
  });

  test("#2/#9 KMS route: mrAggregated and the device rule; allowAnyDevice overrides the list", async () => {
    const s = setup({
      osImages: [IMG],
      gatewayAppId: "0xgateway",
      kms: { mrAggregated: ["0xabc123"], devices: ["0xdevice999"], allowAnyDevice: false },
    });
    expect((await s.call("kms", base)).body).toEqual({ isAllowed: true, gatewayAppId: "0xgateway", reason: "ok" });
    s.write({ osImages: [IMG], kms: { mrAggregated: ["0xabc123"], devices: ["0xotherdevice"], allowAnyDevice: true } });
    expect((await s.call("kms", base)).body.isAllowed).toBe(true);
    s.write({ osImages: [IMG], kms: { mrAggregated: ["0xabc123"], devices: ["0xotherdevice"], allowAnyDevice: false } });
    expect((await s.call("kms", base)).body.reason).toBe("device not allowed");
  });

  test("#3–#5 TCB status and advisories: not enforced by default, enforced when the allowlist opts in", async () => {
    const cfg = { osImages: [IMG], kms: { mrAggregated: ["0xabc123"], allowAnyDevice: true } };
    const s = setup(cfg);
    expect((await s.call("kms", { ...base, tcbStatus: "OutOfDate" })).body.isAllowed).toBe(true);
    expect((await s.call("kms", { ...base, advisoryIds: ["INTEL-SA-TEST"] })).body.isAllowed).toBe(true);
    s.write({ ...cfg, allowedTcbStatuses: ["UpToDate"], allowedAdvisoryIds: [] });
    expect((await s.call("kms", { ...base, tcbStatus: "OutOfDate" })).body.reason).toBe("TCB status is not allowed");
    expect((await s.call("kms", { ...base, advisoryIds: ["INTEL-SA-TEST"] })).body.reason).toBe("advisory ID is not allowed");
    s.write({ ...cfg, allowedTcbStatuses: ["UpToDate", "OutOfDate"], allowedAdvisoryIds: ["INTEL-SA-TEST"] });
    expect((await s.call("kms", { ...base, tcbStatus: "OutOfDate", advisoryIds: ["INTEL-SA-TEST"] })).body.isAllowed).toBe(true);
  });

  test("#6–#8 KMS route ignores osImages (Rust semantics); a different or empty MR list denies", async () => {
    const s = setup({ osImages: ["0xdifferentimage"], kms: { mrAggregated: ["0xabc123"], allowAnyDevice: true } });
    expect((await s.call("kms", base)).body.isAllowed).toBe(true);
    s.write({ kms: { mrAggregated: ["0xdifferentmr"], allowAnyDevice: true } });
    expect((await s.call("kms", base)).body.reason).toBe("kms mrAggregated not allowed");
    s.write({ kms: { mrAggregated: [], allowAnyDevice: true } });
    expect((await s.call("kms", base)).body.reason).toBe("kms mrAggregated not allowed");
  });

  test("#10–#14 app route: registered app, compose hash, device rule", async () => {
    const s = setup({
      osImages: [IMG],
      apps: { "0xapp123": { composeHashes: ["0xcompose456"], devices: ["0xdevice999"], allowAnyDevice: false } },
    });
    expect((await s.call("app", base)).body).toEqual({ isAllowed: true, gatewayAppId: "", reason: "ok" });
    s.write({ osImages: [IMG], apps: {} });
    expect((await s.call("app", base)).body.reason).toBe("app not registered");
    s.write({ apps: { "0xapp123": { composeHashes: ["0xdifferenthash"], allowAnyDevice: true } } });
    expect((await s.call("app", base)).body.reason).toBe("compose hash not allowed");
    s.write({ apps: { "0xapp123": { composeHashes: ["0xcompose456"], devices: ["0xotherdevice"], allowAnyDevice: false } } });
    expect((await s.call("app", base)).body.reason).toBe("device not allowed");
    s.write({ apps: { "0xapp123": { composeHashes: ["0xcompose456"], devices: [], allowAnyDevice: false } } });
    expect((await s.call("app", base)).body.isAllowed).toBe(true);
  });

  test("#15/#16, and as dstack-auth: hex is normalised on both sides, map keys too (trimmed, 0x/0X, case)", async () => {
    const s = setup({
      osImages: [IMG.toUpperCase().replace("0X", "0x")],
      apps: { "0xAPP123": { composeHashes: ["0xCOMPOSE456"], allowAnyDevice: true } },
    });
    expect((await s.call("app", base)).body.isAllowed).toBe(true);
    expect(
      (await s.call("app", { ...base, appId: "0XAPP123", composeHash: " compose456 ", osImageHash: IMG.slice(2) })).body.isAllowed,
    ).toBe(true);
    s.write({ osImages: ["0xC2AA"], apps: { "0xApp1": { composeHashes: ["0xHASH"], allowAnyDevice: true } } });
    const wire = {
      teeVariant: "dstack-tdx",
      mrAggregated: "0xAABB",
      osImageHash: "0xC2AA",
      mrSystem: "",
      appId: "0xApp1",
      composeHash: "0xHASH",
      instanceId: "",
      deviceId: "0xDEV",
      keyProviderInfo: "",
      tcbStatus: "UpToDate",
      advisoryIds: [],
    };
    expect((await s.call("app", wire)).body.isAllowed).toBe(true);
    expect((await s.call("app", { ...wire, appId: "0xnope" })).body.reason).toBe("app not registered");
    expect((await s.call("app", { ...wire, composeHash: "0xnope" })).body.reason).toBe("compose hash not allowed");
    expect((await s.call("app", { ...wire, osImageHash: "0xnope" })).body.reason).toBe("os image not allowed");
    s.write({ apps: { "0xApp1": { composeHashes: ["0xHASH"] } } });
    expect((await s.call("app", wire)).body.isAllowed).toBe(true); // empty osImages = any image; no devices key = any device
  });

  test("every decision is logged once with app id, compose hash, result and reason", async () => {
    const s = setup({ apps: {} });
    await s.call("app", base);
    expect(s.logs).toEqual([
      {
        route: "app",
        appId: "0xapp123",
        composeHash: "0xcompose456",
        mrAggregated: "0xabc123",
        allowed: false,
        reason: "app not registered",
      },
    ]);
  });
});

describe("fail closed", () => {
  test("missing, invalid JSON and schema-invalid allowlists deny everything, with the reason; logged once per change", async () => {
    const s = setup("{invalid");
    const r1 = await s.call("app", base);
    const r2 = await s.call("app", base);
    expect(r1.status).toBe(200);
    expect(r1.body.isAllowed).toBe(false);
    expect(r1.body.reason).toStartWith("allowlist unavailable: ");
    expect(r1.body.reason).toContain("invalid JSON");
    expect(r2.body.reason).toBe(r1.body.reason);
    expect(s.changes).toHaveLength(1);
    s.write({ osImages: "notarray" });
    expect((await s.call("kms", base)).body.reason).toContain("osImages");
    renameSync(s.path, `${s.path}.gone`);
    expect((await s.call("app", base)).body.reason).toContain("does not exist");
    expect(s.changes).toHaveLength(3);
    const info = await s.fetch(new Request("http://x/"));
    expect(info.status).toBe(200);
  });

  test("the empty default allowlist denies (Rust kms_allowlist_and_empty_default)", async () => {
    const s = setup({});
    expect((await s.call("kms", { ...base, deviceId: "" })).body.isAllowed).toBe(false);
    expect((await s.call("app", base)).body.isAllowed).toBe(false);
  });
});

describe("bad input never crashes it", () => {
  test("invalid JSON, wrong content type, wrong types, too big, 404, 405", async () => {
    const s = setup({ apps: {} });
    expect((await s.call("app", "{bad")).status).toBe(400);
    expect((await s.call("app", "")).status).toBe(400);
    expect((await s.call("app", "[]")).status).toBe(400);
    const wrongType = await s.call("app", { ...base, appId: 5 });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error).toBe("field appId must be a string");
    expect((await s.call("app", { ...base, advisoryIds: null })).status).toBe(400);
    expect((await s.call("app", base, { "content-type": "text/plain" })).status).toBe(415);
    expect((await s.call("app", JSON.stringify({ ...base, pad: "x".repeat(70 * 1024) }))).status).toBe(413);
    expect((await s.fetch(new Request("http://x/nope"))).status).toBe(404);
    expect((await s.fetch(new Request("http://x/bootAuth/app/"))).status).toBe(404);
    expect((await s.fetch(new Request("http://x/bootAuth/app"))).status).toBe(405);
    expect((await s.fetch(new Request("http://x/", { method: "POST" }))).status).toBe(405);
    const r = await s.fetch(new Request("http://x/nope"));
    expect(await r.json()).toEqual({ error: "no such route: /nope" });
  });

  test("served with its routes (as dstack-auth serves it): Bun's native match and the fallback give the handler's answers", async () => {
    const s = setup({ apps: { "0xapp123": { composeHashes: ["0xcompose456"] } }, kms: { mrAggregated: ["0xabc123"] } });
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, routes: s.fetch.routes, fetch: s.fetch });
    const url = `http://127.0.0.1:${server.port}`;
    const ask = async (path: string, init: RequestInit) => {
      const over = await fetch(`${url}${path}`, init);
      const direct = await s.fetch(new Request(`http://x${path}`, init));
      return { over: { status: over.status, body: await over.text() }, direct: { status: direct.status, body: await direct.text() } };
    };
    const post = (body: unknown, headers: Record<string, string> = { "content-type": "application/json" }) => ({
      method: "POST",
      headers,
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    try {
      const cases: [string, RequestInit, number, string | undefined][] = [
        ["/bootAuth/app", post(base), 200, "ok"], // matched by Bun
        ["/bootAuth/app?v=1", post(base), 200, "ok"], // matched by Bun, with a query
        ["/bootAuth/%61pp", post(base), 200, "ok"], // not matched by Bun: the handler decodes it
        ["/bootAuth/app", post({ ...base, composeHash: "0x1" }), 200, "compose hash not allowed"],
        ["/bootAuth/kms", post(base), 200, "ok"],
        ["/bootAuth/kms", post({ ...base, mrAggregated: "0x1" }), 200, "kms mrAggregated not allowed"],
        ["/bootAuth/app", post(base, { "content-type": "text/plain" }), 415, undefined],
        ["/bootAuth/app", post("{bad"), 400, undefined],
        ["/bootAuth/app", post(JSON.stringify({ ...base, pad: "x".repeat(70 * 1024) })), 413, undefined],
        ["/bootAuth/app", { method: "GET" }, 405, undefined],
        ["/bootAuth/app", { method: "PUT", body: "{}" }, 405, undefined],
        ["/bootAuth/app/", post(base), 404, undefined],
        ["/BOOTAUTH/APP", post(base), 404, undefined],
        ["/", { method: "GET" }, 200, undefined],
      ];
      for (const [path, init, status, reason] of cases) {
        const { over, direct } = await ask(path, init);
        expect({ path, ...over }).toEqual({ path, ...direct });
        expect({ path, status: over.status }).toEqual({ path, status });
        if (reason) expect(JSON.parse(over.body).reason).toBe(reason);
      }
      // each decision logged once: 6 over HTTP and 6 directly
      expect(s.logs).toHaveLength(12);
    } finally {
      server.stop(true);
    }
  });

  test("a chunked body (no content-length) is decided, and one over 64 KiB is a 413 with a JSON error", async () => {
    const s = setup({ apps: { "0xapp123": { composeHashes: ["0xcompose456"] } } });
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, maxRequestBodySize: Number.MAX_SAFE_INTEGER, fetch: s.fetch });
    // A ReadableStream body makes fetch send Transfer-Encoding: chunked, without a content-length.
    const chunked = (text: string) =>
      new ReadableStream({
        start(c) {
          const bytes = new TextEncoder().encode(text);
          for (let i = 0; i < bytes.length; i += 1000) c.enqueue(bytes.subarray(i, i + 1000));
          c.close();
        },
      });
    try {
      const url = `http://127.0.0.1:${server.port}/bootAuth/app`;
      const ok = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: chunked(JSON.stringify(base)) });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ isAllowed: true, gatewayAppId: "", reason: "ok" });
      const big = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: chunked(JSON.stringify({ ...base, pad: "x".repeat(64 * 1024) })),
      });
      expect(big.status).toBe(413);
      expect(await big.json()).toEqual({ error: "body too large (limit 65536 bytes)" });
      const bad = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: chunked("{bad") });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: string }).error).toStartWith("invalid JSON: ");
    } finally {
      server.stop(true);
    }
  });

  test("fuzz: 10,000 random bodies and headers to the compiled binary; every one answered with JSON, server still up", async () => {
    const s = setup({ apps: { "0xapp123": { composeHashes: ["0xcompose456"] } } });
    const { p, url } = await serveBinary(s.path);
    let seed = 42;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]!;
    const bodies: (() => NonNullable<RequestInit["body"]>)[] = [
      () => JSON.stringify({ ...base, [pick(Object.keys(base))]: pick([null, 1, true, [], {}, "x", `0x${"f".repeat(64)}`]) }),
      () => Array.from({ length: Math.floor(rnd() * 200) }, () => String.fromCharCode(Math.floor(rnd() * 256))).join(""),
      () => JSON.stringify(pick([null, 0, "s", [], [base], { advisoryIds: [1] }])),
      () => JSON.stringify(base),
      () => `{${'"a":'.repeat(Math.floor(rnd() * 50))}`,
      () => Uint8Array.from({ length: Math.floor(rnd() * 300) }, () => Math.floor(rnd() * 256)),
      () => JSON.stringify({ ...base, pad: "x".repeat(60 * 1024 + Math.floor(rnd() * 10 * 1024)) }), // either side of 64 KiB
      () => new Blob([JSON.stringify(base)]).stream(), // chunked
    ];
    let answered = 0;
    const statuses = new Set<number>();
    const notJson: string[] = [];
    try {
      for (let batch = 0; batch < 100; batch++) {
        await Promise.all(
          Array.from({ length: 100 }, async () => {
            const path = pick(["/bootAuth/app", "/bootAuth/kms", "/", "/x", "/bootAuth", "/bootAuth/app?x=1", "/%zz"]);
            const method = pick(["POST", "POST", "POST", "GET", "PUT", "DELETE"]);
            const headers: Record<string, string> = {};
            if (rnd() < 0.8)
              headers["content-type"] = pick([
                "application/json",
                "text/plain",
                "application/json; charset=utf-8",
                "",
                "application/x-www-form-urlencoded",
                "application/vnd.x+json",
              ]);
            if (rnd() < 0.2) headers["x-junk"] = String(rnd());
            const r = await fetch(`${url}${path}`, { method, headers, ...(method === "GET" ? {} : { body: pick(bodies)() }) });
            statuses.add(r.status);
            const text = await r.text();
            try {
              const j = JSON.parse(text) as Record<string, unknown>;
              const shapeOk = r.status === 200 ? typeof j.isAllowed === "boolean" || j.status === "ok" : typeof j.error === "string";
              if (!shapeOk) notJson.push(`${r.status} ${text.slice(0, 80)}`);
            } catch {
              notJson.push(`${r.status} ${text.slice(0, 80)}`);
            }
            answered++;
          }),
        );
      }
      expect(answered).toBe(10_000);
      expect(notJson).toEqual([]);
      expect([...statuses].every((c) => c === 200 || (c >= 400 && c < 500))).toBe(true);
      expect(statuses).toContain(413);
      expect(statuses).toContain(415);
      const ok = await fetch(`${url}/bootAuth/app`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(base),
      });
      expect(((await ok.json()) as { isAllowed: boolean }).isAllowed).toBe(true);
      expect(p.exitCode).toBeNull();
    } finally {
      p.kill("SIGKILL");
    }
  }, 60_000);
});

describe("freshness", () => {
  test("an update by rename is seen by the very next request; no decision from an older version", async () => {
    const s = setup({ apps: { "0xapp123": { composeHashes: ["0x0"] } } });
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, routes: s.fetch.routes, fetch: s.fetch }); // as serve does
    // The writer publishes version N by renaming a file that allows compose hash N.
    let completed = 0;
    let stop = false;
    const writer = (async () => {
      for (let n = 1; !stop; n++) {
        const tmp = `${s.path}.tmp`;
        writeFileSync(tmp, JSON.stringify({ apps: { "0xapp123": { composeHashes: [`0x${n.toString(16)}`] } } }));
        renameSync(tmp, s.path);
        completed = n;
        await Bun.sleep(0);
      }
    })();
    let checked = 0;
    try {
      for (let i = 0; i < 400; i++) {
        const atStart = completed;
        // ask whether the last completed version is allowed: it, or a newer one, must be in force
        const r = await fetch(`http://127.0.0.1:${server.port}/bootAuth/app`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ ...base, composeHash: `0x${atStart.toString(16)}` }),
        });
        const d = (await r.json()) as { isAllowed: boolean };
        if (!d.isAllowed) {
          // denied: only acceptable if a newer version than atStart was already published
          expect(completed).toBeGreaterThan(atStart);
        }
        checked++;
      }
    } finally {
      stop = true;
      await writer;
      server.stop(true);
    }
    expect(checked).toBe(400);
  }, 60_000);
});

describe("freshness across threads, with requests in flight together", () => {
  test("compiled binary: 20 requests at a time while another thread renames new versions in a tight loop; none decided by a version older than the last rename completed before it was sent", async () => {
    const s = setup({ gatewayAppId: "0", apps: {} });
    const { p, port } = await serveBinary(s.path);
    const shared = new SharedArrayBuffer(8);
    const slots = new Int32Array(shared);
    const worker = new Worker(new URL("./renamer-worker.ts", import.meta.url).href);
    let workerError: string | undefined;
    const stopped = new Promise((resolve) => {
      worker.onmessage = resolve;
      worker.onerror = (e) => {
        workerError = e.message;
        resolve(undefined);
      };
    });
    try {
      worker.postMessage({ path: s.path, shared });
      for (let i = 0; i < 5000 && Atomics.load(slots, 0) < 10 && !workerError; i++) await Bun.sleep(1);
      expect(workerError).toBeUndefined();
      expect(Atomics.load(slots, 0)).toBeGreaterThanOrEqual(10);
      const first = Atomics.load(slots, 0);
      let sent = 0;
      let newer = 0;
      const stale: string[] = [];
      const client = async () => {
        // at least 3,000 requests, and on until the writer (starved on a loaded machine) moved on 100 versions
        while (sent < 3000 || (Atomics.load(slots, 0) - first <= 100 && sent < 30_000)) {
          sent++;
          const atSend = Atomics.load(slots, 0); // every rename up to this one completed before the request left
          const r = await fetch(`http://127.0.0.1:${port}/bootAuth/app`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(base),
          });
          const d = (await r.json()) as { isAllowed: boolean; gatewayAppId: string };
          const decidedBy = Number.parseInt(d.gatewayAppId, 16);
          if (!(decidedBy >= atSend)) stale.push(`sent after version ${atSend} completed, decided by ${d.gatewayAppId}`);
          if (decidedBy > atSend) newer++;
          expect(d.isAllowed).toBe(true);
        }
      };
      await Promise.all(Array.from({ length: 20 }, client));
      expect(stale).toEqual([]);
      // the writer really raced the requests: versions moved on while most of them were in flight
      expect(Atomics.load(slots, 0) - first).toBeGreaterThan(100);
      expect(newer).toBeGreaterThan(1000);
    } finally {
      Atomics.store(slots, 1, 1);
      await stopped;
      worker.terminate();
      p.kill("SIGKILL");
    }
  }, 60_000);
});

describe("compiled binary", () => {
  const procs: Bun.Subprocess[] = [];
  afterAll(() => {
    for (const p of procs) p.kill("SIGKILL");
  });

  test("a port in use or an address not on this host: exit 1 saying where and what to do; beyond loopback: a warning", async () => {
    const s = setup({ apps: {} });
    const holder = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    try {
      const busy = await runBin("dstack-auth", ["--config", s.path, "--port", String(holder.port)]);
      expect(busy.code).toBe(1);
      expect(busy.stderr).toContain(`cannot listen on http://127.0.0.1:${holder.port}: the port is in use`);
      expect(busy.stderr).toContain("choose another --port");
    } finally {
      holder.stop(true);
    }
    // beyond loopback: it serves, with a warning
    const wide = await serveBinary(s.path, { args: ["--address", "0.0.0.0"], stderr: "pipe" });
    wide.p.kill("SIGTERM");
    expect(await wide.p.exited).toBe(0);
    expect(await new Response(wide.p.stderr as ReadableStream).text()).toContain("warning: 0.0.0.0 is not a loopback address");
    const away = await runBin("dstack-auth", ["--config", s.path, "--port", "0", "--address", "192.0.2.7"]);
    expect(away.code).toBe(1);
    expect(away.stderr).toContain("cannot listen on http://192.0.2.7:0");
    expect(away.stderr).toContain("--address must be an address of this host");
  });

  test("serve answers the contract; SIGTERM finishes and exits 0; check and decide", async () => {
    const s = setup({ osImages: [IMG], apps: { "0xapp123": { composeHashes: ["0xcompose456"], allowAnyDevice: true } } });
    const { p, port } = await serveBinary(s.path, { args: ["--log-format", "json"], stderr: "pipe" });
    procs.push(p);
    const d = await fetch(`http://127.0.0.1:${port}/bootAuth/app`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(base),
    });
    expect(await d.json()).toEqual({ isAllowed: true, gatewayAppId: "", reason: "ok" });
    // bodies far over 64 KiB, with a content-length or chunked: a JSON 413, not Bun's empty one
    const huge = new Uint8Array(8 * 1024 * 1024).fill(0x20);
    for (const body of [huge, new Blob([huge]).stream()]) {
      const r = await fetch(`http://127.0.0.1:${port}/bootAuth/app`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      expect(r.status).toBe(413);
      expect(await r.json()).toEqual({ error: "body too large (limit 65536 bytes)" });
    }
    // SIGTERM while a request is in flight (its body still arriving): it is answered, then exit 0
    let finishBody!: () => void;
    const bodyGate = new Promise<void>((r) => (finishBody = r));
    const text = new TextEncoder().encode(JSON.stringify(base));
    const inFlight = fetch(`http://127.0.0.1:${port}/bootAuth/app`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: new ReadableStream({
        async start(c) {
          c.enqueue(text.subarray(0, 10));
          await bodyGate;
          c.enqueue(text.subarray(10));
          c.close();
        },
      }),
    });
    await Bun.sleep(100);
    p.kill("SIGTERM");
    await Bun.sleep(100);
    expect(p.exitCode).toBeNull(); // still serving the request in flight
    finishBody();
    const late = await inFlight;
    expect(late.status).toBe(200);
    expect(await late.json()).toEqual({ isAllowed: true, gatewayAppId: "", reason: "ok" });
    expect(await p.exited).toBe(0);
    const lines = (await new Response(p.stderr as ReadableStream).text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ event: "allowlist", ok: true, apps: 1 }); // reported at start, before any request
    expect(lines[1]).toMatchObject({ event: "listening", port });
    expect(lines.filter((l) => l.event === "allowlist")).toHaveLength(1);
    expect(lines.find((l) => l.event === "decision")).toMatchObject({ route: "app", appId: "0xapp123", allowed: true, reason: "ok" });

    const chk = await runBin("dstack-auth", ["check", "--config", s.path]);
    expect(chk.code).toBe(0);
    expect(chk.stdout).toContain("0xcompose456");
    writeFileSync(join(s.dir, "bad.json"), JSON.stringify({ apps: { x: { composeHashes: "nope" } } }));
    const bad = await runBin("dstack-auth", ["check", "--config", join(s.dir, "bad.json"), "--json"]);
    expect(bad.code).toBe(4);
    expect(JSON.parse(bad.stdout).field).toBe("apps.x.composeHashes");
    const dec = await runBin("dstack-auth", ["decide", "--config", s.path], { stdin: JSON.stringify(base) });
    expect(dec.code).toBe(0);
    expect(JSON.parse(dec.stdout).isAllowed).toBe(true);
    const deny = await runBin("dstack-auth", ["decide", "--config", s.path, "--kms"], { stdin: JSON.stringify(base) });
    expect(deny.code).toBe(1);
    expect(JSON.parse(deny.stdout).reason).toBe("kms mrAggregated not allowed");
    const gone = await runBin("dstack-auth", ["decide", "--config", join(s.dir, "gone.json")], { stdin: JSON.stringify(base) });
    expect(gone.code).toBe(1);
    expect(JSON.parse(gone.stdout).reason).toBe(`allowlist unavailable: ${join(s.dir, "gone.json")} does not exist`); // the server's words
  }, 30_000);
});
