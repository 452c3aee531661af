/**
 * The simulated dstack guest agent of one VM: the DstackGuest API on its
 * dstack.sock and, when asked, tappd's legacy API on its tappd.sock, served
 * with Bun.serve on unix sockets. Nothing here is attested: quotes carry a
 * simulation marker and no Intel signature (see src/core/tdx/quote.ts).
 *
 * The implementation (curves, certificates, HTTP) loads at the first start, so
 * importing this costs a simulator nothing until a VM boots.
 */
import type { GuestAgent, GuestAgentOptions } from "./types.ts";

export type { GuestAgent, GuestAgentOptions, GuestVmInfo } from "./types.ts";

export async function startGuestAgent(opts: GuestAgentOptions): Promise<GuestAgent> {
  const { serveGuestAgent } = await import("./serve.ts");
  return serveGuestAgent(opts);
}
