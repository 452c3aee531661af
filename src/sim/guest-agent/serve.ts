/**
 * The guest agent's listeners: the state, its services, Bun.serve on the unix sockets.
 *
 * Upstream: Dstack-TEE/dstack: os/common/rootfs/dstack-guest-agent.socket, dstack/guest-agent/src/server.rs.
 */
import { chmodSync, rmSync } from "node:fs";
import { dstackService } from "./dstack-service.ts";
import { kmsRootKeys, loadOrCreateKeyRoot } from "./key-root.ts";
import { type Service, serveRpc } from "./rpc.ts";
import { appendRuntimeEvent, readRuntimeEvents } from "./runtime-events-file.ts";
import { GuestState } from "./state.ts";
import { tappdService } from "./tappd-service.ts";
import { GuestCa } from "./tls.ts";
import type { GuestAgent, GuestAgentOptions } from "./types.ts";

/** ra-rpc's default request limit */
const MAX_BODY = 10 * 1024 * 1024;

interface Listener {
  path: string;
  stop(): Promise<void>;
}

/**
 * Mode 0777 as the guest's socket unit makes it (SocketMode=0777): an app's
 * non-root containers must connect too. Who else can reach it is up to the
 * directory it is in, which the caller keeps private.
 */
function listen(path: string, service: Service, mount: string, trim: string): Listener {
  rmSync(path, { force: true }); // a socket left by an earlier run (upstream binds with reuse = true)
  const server = Bun.serve({ unix: path, maxRequestBodySize: MAX_BODY, fetch: (req) => serveRpc(req, service, mount, trim) });
  try {
    chmodSync(path, 0o777);
  } catch (e) {
    server.stop(true);
    throw e;
  }
  return { path, stop: () => server.stop(true) };
}

async function stopAll(listeners: Listener[]): Promise<void> {
  await Promise.all(listeners.map((l) => l.stop()));
  for (const l of listeners) rmSync(l.path, { force: true });
}

export async function serveGuestAgent(opts: GuestAgentOptions): Promise<GuestAgent> {
  const root = kmsRootKeys(loadOrCreateKeyRoot(opts.keyRootPath));
  const eventsPath = opts.runtimeEventsPath;
  const state = eventsPath
    ? new GuestState(opts.vm, root, readRuntimeEvents(eventsPath), (e) => appendRuntimeEvent(eventsPath, e))
    : new GuestState(opts.vm, root);
  const ca = new GuestCa(state);
  const listeners = [listen(opts.socketPath, dstackService(state, ca), "/", "")];
  if (opts.legacySocketPath) {
    try {
      listeners.push(listen(opts.legacySocketPath, tappdService(state, ca), "/prpc/", "Tappd."));
    } catch (e) {
      await stopAll(listeners);
      throw e;
    }
  }
  return { close: () => stopAll(listeners) };
}
