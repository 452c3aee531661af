/**
 * The webhook over HTTP (its caller: Dstack-TEE/dstack: dstack/kms/src/main_service/upgrade_authority.rs): GET /, POST /bootAuth/app,
 * POST /bootAuth/kms. A decision is always 200 {isAllowed, gatewayAppId, reason};
 * bad input is a 4xx with {error}; it never crashes on input.
 */
import { type BootInfo, type Decision, decideApp, decideKms, parseBootInfo } from "./decide.ts";
import { AllowlistSource, type Loaded } from "./source.ts";

export const MAX_BODY = 64 * 1024;

export interface DecisionLog {
  route: "app" | "kms";
  appId: string;
  composeHash: string;
  mrAggregated: string;
  allowed: boolean;
  reason: string;
}

export interface WebhookOptions {
  onDecision?: (d: DecisionLog) => void;
  onAllowlistChange?: (l: Loaded) => void;
}

// Response.json: serialised and typed natively (measured cheaper than new Response(JSON.stringify(…))).
const json = (body: unknown, status = 200) => (status === 200 ? Response.json(body) : Response.json(body, { status }));

export const INFO = { status: "ok", kmsContractAddr: "", ethRpcUrl: "", gatewayAppId: "", chainId: 0, appImplementation: "" };

export function unavailable(reason: string): Decision {
  return { isAllowed: false, gatewayAppId: "", reason: `allowlist unavailable: ${reason}` };
}

/** The path of an absolute request URL, without the cost of a URL object per request. */
function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  let end = url.length;
  for (const c of ["?", "#"]) {
    const i = url.indexOf(c, start);
    if (i >= 0 && i < end) end = i;
  }
  const raw = url.slice(start, end);
  if (!raw.includes("%")) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

type Handler = (req: Request) => Response | Promise<Response>;

/** The handler, with the routes that Bun may dispatch to natively (see makeWebhook). */
export type Webhook = Handler & { routes: Record<"/bootAuth/app" | "/bootAuth/kms", { POST: Handler }> };

/**
 * The request handler. Answers that need no body (404, 405, 415, 413 by
 * content-length) are returned at once; otherwise the body is read, parsed and
 * decided in one promise chain. A body with a content-length (what the KMS
 * sends) is parsed by Bun straight from its bytes (req.json(), measured cheaper
 * than text() + JSON.parse), after its content-length was checked; a chunked
 * body is streamed and given up once it passes the limit. The allowlist comes
 * from source.load(), looked at once the body is in, so after the request
 * arrived; nothing waits for a later event-loop turn, so requests pipelined on
 * one connection are each answered (Bun drops such a connection when a
 * response waits for a macrotask).
 *
 * `routes` are the two POST routes alone, for Bun.serve's routes: Bun matches
 * them natively (the exact path, any query), so the per-request URL string and
 * its dispatch here are skipped on the KMS's path. Whatever they do not match
 * (another method, a trailing slash, a percent-encoded path) falls through to the
 * handler itself, which dispatches it as before: the same answers either way.
 */
export function makeWebhook(path: string, o: WebhookOptions = {}): Webhook {
  const source = new AllowlistSource(path);
  source.onChange = o.onAllowlistChange;
  source.load(); // report the allowlist's state (loaded, or why not) at start, not at the first request
  const onDecision = o.onDecision;
  const decide = (route: "app" | "kms", raw: unknown): Response => {
    let info: BootInfo;
    try {
      info = parseBootInfo(raw);
    } catch (e) {
      return json({ error: (e as Error).message }, 400);
    }
    const l = source.load();
    const d = l.ok ? (route === "app" ? decideApp(l.compiled, info) : decideKms(l.compiled, info)) : unavailable(l.error);
    onDecision?.({
      route,
      appId: info.appId,
      composeHash: info.composeHash,
      mrAggregated: info.mrAggregated,
      allowed: d.isAllowed,
      reason: d.reason,
    });
    return json(d);
  };
  const unreadable = (e: unknown) =>
    json({ error: e instanceof SyntaxError ? `invalid JSON: ${e.message}` : "the body could not be read" }, 400);
  const tooLarge = () => json({ error: `body too large (limit ${MAX_BODY} bytes)` }, 413);
  /** A POST to a decision route: its content type and size, then its body, then the decision. */
  const post = (route: "app" | "kms", req: Request): Response | Promise<Response> => {
    const headers = req.headers;
    const ct = headers.get("content-type");
    if (ct && ct !== "application/json" && !/^application\/([\w.+-]*\+)?json\b/i.test(ct))
      return json({ error: `unsupported content type ${ct}: send application/json` }, 415);
    const len = headers.get("content-length");
    if (len !== null) {
      if (Number(len) > MAX_BODY) return tooLarge();
      return req.json().then((raw) => decide(route, raw), unreadable);
    }
    return readLimited(req, MAX_BODY).then((text) => {
      if (text === undefined) return tooLarge();
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch (e) {
        return unreadable(e);
      }
      return decide(route, raw);
    }, unreadable);
  };
  const handler: Handler = (req) => {
    const pathname = pathOf(req.url);
    const route = pathname === "/bootAuth/app" ? "app" : pathname === "/bootAuth/kms" ? "kms" : pathname === "/" ? "info" : undefined;
    if (!route) return json({ error: `no such route: ${pathname}` }, 404);
    if (route === "info") {
      if (req.method !== "GET" && req.method !== "HEAD") return json({ error: "method not allowed: use GET" }, 405);
      return json(INFO);
    }
    if (req.method !== "POST") return json({ error: "method not allowed: use POST" }, 405);
    return post(route, req);
  };
  const routes = {
    "/bootAuth/app": { POST: (req: Request) => post("app", req) },
    "/bootAuth/kms": { POST: (req: Request) => post("kms", req) },
  };
  return Object.assign(handler, { routes });
}

/**
 * A body without a content-length (chunked), read as a stream and given up as
 * soon as it passes `limit` bytes: undefined. So a body of any size costs at
 * most `limit` bytes of memory and is answered with our 413 (Bun's own limit,
 * maxRequestBodySize, would answer with an empty one).
 */
async function readLimited(req: Request, limit: number): Promise<string | undefined> {
  if (!req.body) return "";
  const reader = req.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return undefined;
    }
    parts.push(value);
  }
  return Buffer.concat(parts, size).toString("utf8");
}
