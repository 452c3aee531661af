/**
 * The guest agent's HTTP RPC convention (prpc in JSON mode, as upstream's
 * ra-rpc serves it): the method is the last path segment, after a mount prefix
 * ("/" on dstack.sock, "/prpc/" on tappd.sock, where "Tappd." may precede the
 * name); arguments are the JSON body of a POST or the query string of a GET,
 * field names snake_case, bytes as hex; a result is JSON with status 200; any
 * error is status 400 with {"error": "…"}. Protobuf bodies are not spoken: every
 * body is read as JSON (the SDKs and curl examples all send JSON).
 *
 * Upstream: Dstack-TEE/dstack: dstack/ra-rpc/src/rocket_helper.rs, dstack/ra-rpc/src/lib.rs.
 */

export type Args = Record<string, unknown>;
export type Method = (args: Args) => unknown;
export type Service = Record<string, Method>;

export class RpcError extends Error {}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body, null, status === 200 ? undefined : 2), { status, headers: { "content-type": "application/json" } });

async function argsOf(req: Request, url: URL): Promise<Args> {
  if (req.method === "GET") return Object.fromEntries(url.searchParams);
  const text = await req.text();
  if (text.trim() === "") return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new RpcError(`failed to decode the request: ${(e as Error).message}`);
  }
  if (!v || typeof v !== "object" || Array.isArray(v)) throw new RpcError("failed to decode the request: expected a JSON object");
  return v as Args;
}

/** mount: the path prefix ending in "/"; trim: a service prefix the method name may carry. */
export async function serveRpc(req: Request, service: Service, mount: string, trim: string): Promise<Response> {
  const url = new URL(req.url);
  const rest = url.pathname.startsWith(mount) ? url.pathname.slice(mount.length) : undefined;
  if (rest === undefined || rest === "" || rest.includes("/") || (req.method !== "GET" && req.method !== "POST"))
    return json({ error: `not found: ${req.method} ${url.pathname}` }, 404);
  const name = rest.startsWith(trim) ? rest.slice(trim.length) : rest;
  const method = Object.hasOwn(service, name) ? service[name] : undefined;
  try {
    if (!method) throw new RpcError(`method not found: ${name}`);
    return json(await method(await argsOf(req, url)));
  } catch (e) {
    return json({ error: e instanceof Error ? e.message : String(e) }, 400);
  }
}

// ---- argument readers (proto3: a missing field is its default) ----------------

export function str(a: Args, k: string): string {
  const v = a[k];
  if (v === undefined || v === null) return "";
  if (typeof v !== "string") throw new RpcError(`${k}: expected a string`);
  return v;
}

export function bool(a: Args, k: string): boolean {
  const v = a[k];
  if (v === undefined || v === null) return false;
  if (typeof v === "boolean") return v;
  if (v === "true" || v === "1" || v === "") return true; // a query string
  if (v === "false" || v === "0") return false;
  throw new RpcError(`${k}: expected a boolean`);
}

export function strs(a: Args, k: string): string[] {
  const v = a[k];
  if (v === undefined || v === null) return [];
  if (typeof v === "string") return [v];
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) throw new RpcError(`${k}: expected a list of strings`);
  return v as string[];
}

export function optU64(a: Args, k: string): number | undefined {
  const v = a[k];
  if (v === undefined || v === null) return undefined;
  const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) throw new RpcError(`${k}: expected an unsigned integer`);
  return n;
}

export function bytes(a: Args, k: string): Uint8Array {
  const s = str(a, k);
  const h = s.startsWith("0x") || s.startsWith("0X") ? s.slice(2) : s;
  if (h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h)) throw new RpcError(`${k}: expected hex`);
  return new Uint8Array(Buffer.from(h, "hex"));
}
