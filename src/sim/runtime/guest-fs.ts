/**
 * A simulated CVM's filesystem on the host: `<vm dir>/guest/` plays the guest's `/`. Paths in
 * the user's compose are guest paths; they resolve in here, never on the host's own tree.
 * The compose directory is `/dstack` as on a real CVM (app-compose.service's working dir).
 */
import { posix } from "node:path";

export const GUEST_COMPOSE_DIR = "/dstack";
/** The guest agent's sockets, as guest paths (`/var/run` is a link to `/run` in the guest). */
export const GUEST_AGENT_SOCKET = "/var/run/dstack.sock";
export const GUEST_LEGACY_SOCKET = "/var/run/tappd.sock";

/** A guest path, absolute and normalised: relative to /dstack, `~` = /root, `/var/run` = /run. */
export function guestPath(p: string): string {
  const home = p === "~" || p.startsWith("~/") ? `/root${p.slice(1)}` : p;
  const abs = posix.resolve(GUEST_COMPOSE_DIR, home);
  return abs === "/var/run" || abs.startsWith("/var/run/") ? abs.slice(4) : abs;
}

/** Where a guest path lives on the host: under the VM's guest root. */
export function hostPathOf(guestRoot: string, p: string): string {
  const g = guestPath(p);
  return g === "/" ? guestRoot : posix.join(guestRoot, g);
}
