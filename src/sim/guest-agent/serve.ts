/**
 * The guest agent's listeners: the state, its services, Bun.serve on the unix sockets.
 *
 * Upstream: Dstack-TEE/dstack: os/common/rootfs/dstack-guest-agent.socket, dstack/guest-agent/src/server.rs.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, lstatSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { kmsRootKeys, loadOrCreateKeyRoot } from "./attestation/key-root.ts";
import { appendRuntimeEvent, readRuntimeEvents } from "./attestation/runtime-events-file.ts";
import { GuestState } from "./attestation/state.ts";
import { type Service, serveRpc } from "./rpc.ts";
import { dstackService } from "./services/dstack-service.ts";
import { tappdService } from "./services/tappd-service.ts";
import { GuestCa } from "./services/tls.ts";
import type { GuestAgent, GuestAgentOptions } from "./types.ts";

/** ra-rpc's default request limit */
const MAX_BODY = 10 * 1024 * 1024;

interface Listener {
  path: string;
  /** the socket file's inode, so closing never removes a successor's socket at the same path */
  ino: number;
  stop(): Promise<void>;
}

/**
 * Bun binds a temp name beside the path, which is then renamed onto it (replacing a
 * socket left by an earlier run, as upstream binds with reuse = true): Bun's stop()
 * unlinks the name it bound, so an agent that closes late never removes its
 * successor's socket. Mode 0777 as the guest's socket unit makes it (SocketMode=0777):
 * an app's non-root containers must connect too; who else can reach it is up to the
 * directory it is in, which the caller keeps private.
 */
function listen(path: string, service: Service, mount: string, trim: string): Listener {
  const bound = join(dirname(path), `.ga-${randomBytes(3).toString("hex")}`); // 10 bytes: never longer than the name it replaces
  const server = Bun.serve({ unix: bound, maxRequestBodySize: MAX_BODY, fetch: (req) => serveRpc(req, service, mount, trim) });
  try {
    chmodSync(bound, 0o777);
    renameSync(bound, path);
    return { path, ino: lstatSync(path).ino, stop: () => server.stop(true) };
  } catch (e) {
    server.stop(true);
    rmSync(bound, { force: true });
    throw e;
  }
}

async function stopAll(listeners: Listener[]): Promise<void> {
  await Promise.all(listeners.map((l) => l.stop()));
  for (const l of listeners) if (lstatSync(l.path, { throwIfNoEntry: false })?.ino === l.ino) rmSync(l.path, { force: true });
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
