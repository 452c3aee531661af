/**
 * Each simulated CVM's own address, standing in for its user-mode NIC: a loopback address
 * 127.A.B.C derived from the VM id (stable across restarts, distinct between VMs and between
 * simulators sharing one engine, and usable without root: all of 127/8 is local on Linux).
 * The compose's published ports bind there; the VMM's port mappings forward to it.
 * 127.0.x.x is left out, so 127.0.0.1 is never a guest.
 */
import { sha256Bytes } from "../../core/hash.ts";

export function guestAddressOf(vmId: string): string {
  const h = sha256Bytes(`dstack-vmm-sim guest address:${vmId}`);
  return `127.${1 + (h[0]! % 254)}.${h[1]!}.${1 + (h[2]! % 254)}`;
}
