/** `http(s)://host:port`: plain fetch against a base URL (the token travels as a Bearer header). */
import type { Transport } from "./transport.ts";

export function httpTransport(base: string): Transport {
  const b = base.replace(/\/+$/, "");
  return { endpoint: b, fetch: (p, init) => fetch(b + p, init), close() {} };
}
