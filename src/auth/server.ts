/**
 * The webhook over HTTP (reference/kms-auth.md §1): GET /, POST /bootAuth/app,
 * POST /bootAuth/kms. A decision is always 200 {isAllowed, gatewayAppId, reason};
 * bad input is a 4xx with {error}; it never crashes on input.
 */
import { decideApp, decideKms, type Decision, parseBootInfo } from "./decide.ts";
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

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

export const INFO = { status: "ok", kmsContractAddr: "", ethRpcUrl: "", gatewayAppId: "", chainId: 0, appImplementation: "" };

export function unavailable(reason: string): Decision {
  return { isAllowed: false, gatewayAppId: "", reason: `allowlist unavailable: ${reason}` };
}

export function makeWebhook(path: string, o: WebhookOptions = {}): (req: Request) => Promise<Response> {
  const source = new AllowlistSource(path);
  source.onChange = o.onAllowlistChange;
  return async (req) => {
    const url = new URL(req.url);
    const route = url.pathname === "/bootAuth/app" ? "app" : url.pathname === "/bootAuth/kms" ? "kms" : url.pathname === "/" ? "info" : undefined;
    if (!route) return json({ error: `no such route: ${url.pathname}` }, 404);
    if (route === "info") {
      if (req.method !== "GET" && req.method !== "HEAD") return json({ error: "method not allowed: use GET" }, 405);
      return json(INFO);
    }
    if (req.method !== "POST") return json({ error: "method not allowed: use POST" }, 405);
    const ct = req.headers.get("content-type") ?? "";
    if (ct && !/^application\/([\w.+-]*\+)?json\b/i.test(ct)) return json({ error: `unsupported content type ${ct}: send application/json` }, 415);
    const len = Number(req.headers.get("content-length") ?? "0");
    if (len > MAX_BODY) return json({ error: `body too large (limit ${MAX_BODY} bytes)` }, 413);
    let text: string;
    try {
      const buf = await req.arrayBuffer();
      if (buf.byteLength > MAX_BODY) return json({ error: `body too large (limit ${MAX_BODY} bytes)` }, 413);
      text = new TextDecoder("utf-8", { fatal: true }).decode(buf);
    } catch {
      return json({ error: "the body is not valid UTF-8" }, 400);
    }
    let info;
    try {
      info = parseBootInfo(JSON.parse(text));
    } catch (e) {
      return json({ error: e instanceof SyntaxError ? `invalid JSON: ${e.message}` : (e as Error).message }, 400);
    }
    const l = source.load();
    const d = l.ok ? (route === "app" ? decideApp(l.list, info) : decideKms(l.list, info)) : unavailable(l.error);
    o.onDecision?.({ route, appId: info.appId, composeHash: info.composeHash, mrAggregated: info.mrAggregated, allowed: d.isAllowed, reason: d.reason });
    return json(d);
  };
}
