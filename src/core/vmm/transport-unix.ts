/** `unix:PATH`: HTTP/1.1 over the VMM's unix socket (Bun's fetch `unix` option). */
import type { Transport } from "./transport.ts";

export function unixTransport(path: string): Transport {
  const endpoint = `unix:${path}`;
  return {
    endpoint,
    fetch: (p, init) => fetch(`http://localhost${p}`, { ...init, unix: path } as RequestInit),
    close() {},
  };
}
