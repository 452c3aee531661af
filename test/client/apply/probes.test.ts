import { afterAll, describe, expect, test } from "bun:test";
import { announceWhenUp, checkProbe, probeStreaksNow, waitForProbes } from "../../../src/client/apply/probes.ts";
import { parseProbe } from "../../../src/core/dstack-yml/forms/probes.ts";

// /ok answers 200; /flaky 503 for its first two requests, then 200; /slow after 3 s; /auth 200 with the right header only
let flaky = 0;
const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(req) {
    const path = new URL(req.url).pathname;
    if (path === "/ok") return new Response("ok");
    if (path === "/flaky") return new Response("", { status: ++flaky > 2 ? 200 : 503 });
    if (path === "/slow") {
      await Bun.sleep(3000);
      return new Response("late");
    }
    if (path === "/auth") return new Response("", { status: req.headers.get("authorization") === "Bearer t0k" ? 200 : 401 });
    if (path === "/moved") return Response.redirect("/ok", 302);
    return new Response("", { status: 404 });
  },
});
afterAll(() => server.stop(true));
const base = `http://127.0.0.1:${server.port}`;
const probe = (o: Record<string, unknown>) => parseProbe({ type: "http", interval: "1s", ...o });

describe("probes, checked by the client over HTTP", () => {
  test("one check: 2xx passes; a 404, a redirect, no answer within timeout and a refused connection do not", async () => {
    const req = (url: string, timeoutMs = 5000) => ({ url: `${base}${url}`, method: "GET", headers: [], timeoutMs });
    expect(await checkProbe(req("/ok"))).toEqual({ ok: true, detail: "HTTP 200" });
    expect(await checkProbe(req("/nope"))).toEqual({ ok: false, detail: "HTTP 404" });
    expect(await checkProbe(req("/moved"))).toEqual({ ok: false, detail: "HTTP 302" });
    expect(await checkProbe(req("/slow", 1000))).toEqual({ ok: false, detail: "no answer within 1s" });
    const closed = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") });
    const port = closed.port;
    closed.stop(true);
    expect((await checkProbe({ url: `http://127.0.0.1:${port}/`, method: "GET", headers: [], timeoutMs: 2000 })).ok).toBe(false);
  });

  test("waiting: each probe at its interval until ready_after passes in a row, saying each change", async () => {
    flaky = 0;
    const said: string[] = [];
    const t0 = performance.now();
    const marks = await waitForProbes(
      { base, probes: [probe({ url: "/flaky", ready_after: 2 }), probe({ url: "/ok" })] },
      { env: undefined, stop: new Promise(() => {}), timeoutMs: 20_000, say: (l) => said.push(l) },
    );
    expect(marks).toEqual(["✓", "✓"]);
    expect(said).toEqual([
      "Probe 1/2 (GET /flaky): × HTTP 503",
      "Probe 2/2 (GET /ok): ✓ HTTP 200",
      "Probe 1/2 (GET /flaky): ~ HTTP 200 (1/2 passes)",
      "Probe 1/2 (GET /flaky): ✓ HTTP 200",
    ]);
    // two failures, then two passes, one second apart
    expect(performance.now() - t0).toBeGreaterThan(2900);
  });

  test("the run's env fills ${{ env.X }}; the wait ends at its deadline with the marks it has", async () => {
    const env = new Map([["TOKEN", "t0k"]]);
    const headers = [{ name: "Authorization", value: "Bearer ${{ env.TOKEN }}" }];
    const said: string[] = [];
    const marks = await waitForProbes(
      { base, probes: [probe({ url: "/auth", headers }), probe({ url: "/nope" })] },
      { env, stop: new Promise(() => {}), timeoutMs: 1500, say: (l) => said.push(l) },
    );
    expect(marks).toEqual(["✓", "×"]);
    expect(said).toContain("Probe 2/2 (GET /nope): × HTTP 404");
  });

  test("announced: 'is up' once ready; stop ends a wait at once; no reachable port says so", async () => {
    const said: string[] = [];
    const o = { env: undefined, timeoutMs: 20_000, say: (l: string) => said.push(l) };
    const up = announceWhenUp({ base, probes: [probe({ url: "/ok" })] }, "web", o);
    for (let i = 0; i < 50 && !said.some((l) => l.startsWith("Service web is up")); i++) await Bun.sleep(20);
    await up.stop();
    expect(said).toEqual(["Waiting for the probes of web...", "Probe 1/1 (GET /ok): ✓ HTTP 200", "Service web is up: probes ✓"]);

    said.length = 0;
    const t0 = performance.now();
    const never = announceWhenUp({ base, probes: [probe({ url: "/nope", interval: "10s" })] }, "web", o);
    await Bun.sleep(200);
    await never.stop();
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(said).toEqual(["Waiting for the probes of web...", "Probe 1/1 (GET /nope): × HTTP 404"]);

    said.length = 0;
    await announceWhenUp({ base: undefined, probes: [probe({})] }, "web", o).stop();
    expect(said[0]).toContain("are not checked from here");
  });

  test("ps: one check each; the passes in a row carry over between checks (ps -w); env-bound probes are not sent", async () => {
    const streaks = new Map<string, number>();
    const sp = {
      base,
      probes: [probe({ url: "/ok" }), probe({ url: "/nope" }), probe({ url: "/auth", headers: [{ name: "A", value: "${{ env.T }}" }] })],
    };
    expect(await probeStreaksNow(sp, "vm1", streaks)).toEqual([1, 0, undefined]);
    expect(await probeStreaksNow(sp, "vm1", streaks)).toEqual([2, 0, undefined]);
    expect(await probeStreaksNow(sp, "vm2", streaks)).toEqual([1, 0, undefined]);
  });
});
