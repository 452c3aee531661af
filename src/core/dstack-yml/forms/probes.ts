/**
 * A service's `probes:` (dstackai/dstack: src/dstack/_internal/core/models/configurations.py
 * `ProbeConfig`): HTTP checks of the service, with dstackai's defaults (url `/`, method get,
 * timeout 10s, interval 15s, ready_after 1). When `model` is set and `probes` is omitted a
 * chat-completions probe is added; `probes: []` disables them.
 */
import { parseDuration } from "./duration.ts";
import { GrammarError } from "./grammar-error.ts";

export interface Probe {
  url: string;
  method: "get" | "post" | "put" | "delete" | "patch" | "head";
  headers: { name: string; value: string }[];
  body?: string;
  /** seconds */
  timeout: number;
  /** seconds */
  interval: number;
  readyAfter: number;
  untilReady: boolean;
}

const METHODS = ["get", "post", "put", "delete", "patch", "head"] as const;
const KEYS = ["type", "url", "method", "headers", "body", "timeout", "interval", "ready_after", "until_ready"];
export const MAX_PROBES = 10;

function seconds(v: unknown, what: string, min: number, max?: number): number {
  const s = parseDuration(v);
  if (s < min) throw new GrammarError(`${what} must be at least ${min}s`);
  if (max !== undefined && s > max) throw new GrammarError(`${what} must be at most ${max}s`);
  return s;
}

export function parseProbe(v: unknown): Probe {
  if (v === null || typeof v !== "object" || Array.isArray(v))
    throw new GrammarError("Input should be a probe mapping {type: http, url, …}");
  const o = v as Record<string, unknown>;
  const extra = Object.keys(o).filter((k) => !KEYS.includes(k));
  if (extra.length) throw new GrammarError(`unknown key ${extra[0]} (a probe has ${KEYS.join(", ")})`);
  if (o.type !== "http") throw new GrammarError("type: Input should be 'http'");
  const method = (o.method ?? "get") as Probe["method"];
  if (!METHODS.includes(method)) throw new GrammarError(`method: Input should be ${METHODS.join(", ")}`);
  const url = o.url == null ? "/" : String(o.url);
  if (!url.startsWith("/")) throw new GrammarError("url must start with /");
  const headers = (Array.isArray(o.headers) ? o.headers : o.headers == null ? [] : undefined)?.map((h) => {
    if (h === null || typeof h !== "object" || typeof h.name !== "string" || typeof h.value !== "string") {
      throw new GrammarError("headers: each header is {name, value}");
    }
    return { name: h.name as string, value: h.value as string };
  });
  if (!headers) throw new GrammarError("headers: Input should be a valid list");
  if (headers.length > 16) throw new GrammarError("headers: at most 16");
  if (o.body != null && (method === "get" || method === "head")) throw new GrammarError(`body is not allowed with method ${method}`);
  const p: Probe = {
    url,
    method,
    headers,
    timeout: o.timeout == null ? 10 : seconds(o.timeout, "timeout", 1, 300),
    interval: o.interval == null ? 15 : seconds(o.interval, "interval", 1),
    readyAfter: o.ready_after == null ? 1 : Number(o.ready_after),
    untilReady: o.until_ready === true,
  };
  if (!Number.isInteger(p.readyAfter) || p.readyAfter < 1) throw new GrammarError("ready_after must be an integer ≥ 1");
  if (o.body != null) p.body = String(o.body);
  return p;
}

export function parseProbes(v: unknown): Probe[] {
  if (!Array.isArray(v)) throw new GrammarError("Input should be a valid list");
  if (v.length > MAX_PROBES) throw new GrammarError(`at most ${MAX_PROBES} probes`);
  const out = v.map(parseProbe);
  const seen = new Set(out.map((p) => JSON.stringify(p)));
  if (seen.size !== out.length) throw new GrammarError("Probes must be unique");
  return out;
}

/** dstackai's default probe for a `model:` service. */
export function modelProbe(modelName: string, prefix: string): Probe {
  return {
    url: `${prefix}/chat/completions`,
    method: "post",
    headers: [{ name: "Content-Type", value: "application/json" }],
    body: JSON.stringify({ model: modelName, messages: [{ role: "user", content: "hi" }], max_tokens: 1 }),
    timeout: 30,
    interval: 15,
    readyAfter: 1,
    untilReady: false,
  };
}
