/**
 * dstack-vmm-sim's HTTP side: the VMM's external routes (Dstack-TEE/dstack:
 * dstack/vmm/src/main.rs, dstack/ra-rpc/src/rocket_helper.rs) behind the [auth] fairing — /prpc/<Method> in
 * JSON mode (POST body or GET query), /logs, the dashboard page — over a unix socket or TCP.
 */
import { mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { LockTimeoutError, RefusedError } from "../core/errors.ts";
import { acquireLock, lockPathFor } from "../core/fsutil.ts";
import { lockHolder } from "../host/install/lock.ts";
import { authorized } from "./auth.ts";
import { SIM_MARK } from "./boot.ts";
import type { SimConfig } from "./config.ts";
import { logsResponse } from "./logs.ts";
import { HEADERS } from "./version.ts";
import { Simulator } from "./vmm.ts";
import type { Obj } from "./wire.ts";

function errorResponse(msg: string): Response {
  return new Response(JSON.stringify({ error: msg }, null, 2), {
    status: 400,
    headers: { "content-type": "application/json", ...HEADERS },
  });
}

/** The request message: the GET query (serde_qs-like scalars), or the POST body in JSON mode. */
async function requestBody(req: Request, url: URL): Promise<Obj | Response> {
  const body: Obj = {};
  if (req.method === "GET") {
    for (const [k, v] of url.searchParams) {
      if (k === "json" || k === "token") continue;
      body[k] = v === "true" ? true : v === "false" ? false : /^\d+$/.test(v) ? Number(v) : v;
    }
    return body;
  }
  const text = await req.text();
  const json = url.searchParams.has("json") || (req.headers.get("content-type") ?? "").includes("json");
  if (!json) return errorResponse("protobuf requests are not supported by dstack-vmm-sim; send JSON (?json)");
  if (text.trim() === "") return body;
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed !== null && (typeof parsed !== "object" || Array.isArray(parsed))) return errorResponse(`invalid type: expected struct`);
    return (parsed ?? {}) as Obj;
  } catch (e) {
    return errorResponse(`failed to decode json: ${(e as Error).message}`);
  }
}

export async function handle(sim: Simulator, req: Request): Promise<Response> {
  const url = new URL(req.url);
  if (!authorized(sim.cfg, req, url)) {
    return new Response(null, { status: 401, headers: { "www-authenticate": 'Basic realm="dstack-vmm API"', ...HEADERS } });
  }
  if (url.pathname === "/logs" && req.method === "GET") return logsResponse(sim.store, url, req);
  const m = /^\/prpc\/([^/]+)$/.exec(url.pathname);
  if (m && (req.method === "POST" || req.method === "GET")) {
    const body = await requestBody(req, url);
    if (body instanceof Response) return body;
    try {
      const out = await sim.dispatch(decodeURIComponent(m[1]!), body);
      return new Response(JSON.stringify(out ?? null), { headers: { "content-type": "application/json", ...HEADERS } });
    } catch (e) {
      return errorResponse(e instanceof Error ? e.message : String(e));
    }
  }
  if (req.method === "GET" && (url.pathname === "/" || url.pathname === "/v1" || url.pathname === "/beta")) {
    const title = sim.cfg.nodeName ? `${sim.cfg.nodeName} | dstack-vmm` : "dstack-vmm";
    return new Response(
      `<!doctype html><title>${title}</title><h1>${title} (${SIM_MARK})</h1><p>${sim.store.vms.size} VMs. This is dstack-vmm-sim: the API of dstack-vmm with simulated CVMs.</p>`,
      { headers: { "content-type": "text/html; charset=utf-8", ...HEADERS } },
    );
  }
  return new Response("404 Not Found", { status: 404, headers: HEADERS });
}

export interface RunningSim {
  sim: Simulator;
  stop(): Promise<void>;
  url: string;
}

/** Does a server answer on this unix socket? (A stale socket file refuses the connection.) */
async function socketAnswers(path: string): Promise<boolean> {
  try {
    const sock = await Bun.connect({ unix: path, socket: { data() {} } });
    sock.end();
    return true;
  } catch {
    return false;
  }
}

/**
 * Start the simulator as the one owner of its run_path and socket: an exclusive flock on
 * `<run_path>/.dstack-vmm-sim.lock` for its whole life, and no other server answering on its
 * unix socket. A second `dstack-vmm-sim -c same.toml` is refused (exit 4) naming the holder,
 * before it loads a VM, sweeps a container or touches the socket.
 */
export async function startSimulator(cfg: SimConfig): Promise<RunningSim> {
  mkdirSync(cfg.runPath, { recursive: true });
  const base = join(cfg.runPath, ".dstack-vmm-sim");
  let release: () => void;
  try {
    release = await acquireLock(base, { timeoutMs: 0 });
  } catch (e) {
    if (!(e instanceof LockTimeoutError)) throw e;
    const holder = lockHolder(lockPathFor(base));
    throw new RefusedError(`another dstack-vmm-sim runs on ${cfg.runPath}${holder ? `: ${holder}` : ""} (it holds ${lockPathFor(base)})`, {
      hint: "stop it first, or give this one its own run_path and address",
    });
  }
  try {
    if (cfg.address.kind === "unix" && (await socketAnswers(cfg.address.path)))
      throw new RefusedError(`another server answers on ${cfg.address.path}`, { hint: "stop it first, or give this one its own address" });
    const running = serveSimulator(cfg);
    return {
      ...running,
      async stop() {
        await running.stop();
        release();
      },
    };
  } catch (e) {
    release();
    throw e;
  }
}

/** Serve without claiming run_path (in-process tests, which own their temp dirs). */
export function serveSimulator(cfg: SimConfig): RunningSim {
  const sim = new Simulator(cfg);
  const a = cfg.address;
  let server: ReturnType<typeof Bun.serve>;
  if (a.kind === "unix") {
    mkdirSync(dirname(a.path), { recursive: true });
    rmSync(a.path, { force: true }); // reuse = true
    server = Bun.serve({ unix: a.path, fetch: (r) => handle(sim, r) });
  } else {
    server = Bun.serve({ hostname: a.host, port: a.port, fetch: (r) => handle(sim, r), idleTimeout: 0 });
  }
  const url = a.kind === "unix" ? `unix:${a.path}` : `http://${a.host.includes(":") ? `[${a.host}]` : a.host}:${server.port}`;
  return {
    sim,
    url,
    async stop() {
      await server.stop(true);
      await sim.apps.detachAll();
      if (a.kind === "unix") rmSync(a.path, { force: true });
    },
  };
}
