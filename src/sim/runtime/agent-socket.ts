/**
 * Where a VM's guest agent listens: its guest paths /var/run/dstack.sock and /var/run/tappd.sock,
 * i.e. `<guest root>/run/…`. A unix socket path has at most 107 bytes; when the guest root is
 * deeper than that allows, the socket lives under a short per-user dir and the guest path is a
 * symlink to it (a bind mount follows it, so containers still see the VM's own agent).
 */
import { existsSync, lstatSync, mkdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256Hex } from "../../core/hash.ts";
import { GUEST_AGENT_SOCKET, GUEST_LEGACY_SOCKET, hostPathOf } from "./guest-fs.ts";

const MAX_SOCKET_PATH = 100;

function place(guestRoot: string, guestSocket: string): string {
  const inGuest = hostPathOf(guestRoot, guestSocket);
  if (Buffer.byteLength(inGuest) <= MAX_SOCKET_PATH) return inGuest;
  const dir = join(tmpdir(), `dstack-sim-${process.getuid?.() ?? 0}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const short = join(dir, `${sha256Hex(inGuest).slice(0, 24)}.sock`);
  if (existsSync(inGuest) || lstatSync(inGuest, { throwIfNoEntry: false })) rmSync(inGuest, { force: true });
  symlinkSync(short, inGuest);
  return short;
}

/** The host paths to serve the VM's dstack.sock and tappd.sock on (their guest paths exist in the guest root). */
export function agentSockets(guestRoot: string): { socketPath: string; legacySocketPath: string } {
  return { socketPath: place(guestRoot, GUEST_AGENT_SOCKET), legacySocketPath: place(guestRoot, GUEST_LEGACY_SOCKET) };
}
