/**
 * The simulated dstack guest agent of one VM: the DstackGuest API on its
 * dstack.sock and, when asked, tappd's legacy API on its tappd.sock, served
 * with Bun.serve on unix sockets. Nothing here is attested: quotes carry a
 * simulation marker and no Intel signature (see src/core/tdx/quote.ts).
 */
import { rmSync } from "node:fs";
import { dstackService } from "./dstack-service.ts";
import { kmsRootKeys, loadOrCreateKeyRoot } from "./key-root.ts";
import { type Service, serveRpc } from "./rpc.ts";
import { GuestState } from "./state.ts";
import type { GuestAgent, GuestAgentOptions } from "./types.ts";

export type { GuestAgent, GuestAgentOptions, GuestVmInfo } from "./types.ts";

function listen(path: string, service: Service, mount: string, trim: string) {
  rmSync(path, { force: true }); // a socket left by an earlier run (upstream binds with reuse = true)
  return Bun.serve({ unix: path, fetch: (req) => serveRpc(req, service, mount, trim) });
}

export async function startGuestAgent(opts: GuestAgentOptions): Promise<GuestAgent> {
  const state = new GuestState(opts.vm, kmsRootKeys(loadOrCreateKeyRoot(opts.keyRootPath)));
  const servers = [listen(opts.socketPath, dstackService(state), "/", "")];
  const paths = [opts.socketPath];
  return {
    async close() {
      await Promise.all(servers.map((s) => s.stop(true)));
      for (const p of paths) rmSync(p, { force: true });
    },
  };
}
