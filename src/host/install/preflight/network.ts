/** Preflight checks of what the install listens on and reserves: TCP ports, the CID window, the host-api vsock port. */
import type { DstackError } from "../../../core/errors.ts";
import { isPortFree } from "../../free-port.ts";
import type { CheckResult } from "./result.ts";

export interface PortEntry {
  what: string;
  flag: string;
  address: string;
  port: number;
  /** Already served by this install (re-run): skip the bind test. */
  owned: boolean;
}

const overlapAddr = (a: string, b: string) => a === b || a === "0.0.0.0" || b === "0.0.0.0" || a === "::" || b === "::";

export async function checkPorts(entries: PortEntry[]): Promise<CheckResult> {
  for (const e of entries) {
    if (!Number.isInteger(e.port) || e.port < 1 || e.port > 65535) {
      return { name: "ports", ok: false, detail: `${e.flag} must be between 1 and 65535 (got ${e.port})`, fix: `pass ${e.flag} PORT` };
    }
  }
  for (let i = 0; i < entries.length; i++) {
    for (let j = i + 1; j < entries.length; j++) {
      const a = entries[i]!;
      const b = entries[j]!;
      if (a.port === b.port && overlapAddr(a.address, b.address)) {
        const addr = a.address === b.address ? a.address : `${a.address}/${b.address}`;
        return { name: "ports", ok: false, detail: `${a.flag} and ${b.flag} both use ${addr}:${a.port}`, fix: "choose distinct ports" };
      }
    }
  }
  const busy: string[] = [];
  for (const e of entries) {
    if (e.owned) continue;
    if (!(await isPortFree("tcp", e.address, e.port)))
      busy.push(`${e.what} port ${e.address}:${e.port} is already in use; pass ${e.flag} <free-port>`);
  }
  if (busy.length)
    return { name: "ports", ok: false, detail: busy.join("; "), fix: "stop what listens there (`ss -ltnp`) or pick other ports" };
  const list = entries.map((e) => `${e.what} ${e.port}${e.owned ? " (ours)" : ""}`).join(", ");
  return { name: "ports", ok: true, detail: list };
}

/** The CID window the plan chose against other VMMs' (pickCidStart), or why none fits. */
export interface CidChoice {
  start: number;
  /** Moved off the default to avoid CIDs another VMM holds. */
  moved: boolean;
  poolSize: number;
  /** The asked --cid-start overlaps another VMM's window. */
  error?: DstackError;
}

export function checkCids(c: CidChoice): CheckResult {
  if (c.error) return { name: "cids", ok: false, detail: c.error.message, fix: c.error.hint ?? "" };
  return {
    name: "cids",
    ok: true,
    detail: `cid-start ${c.start}${c.moved ? " (avoids CIDs already reserved by another VMM)" : ""}, pool ${c.poolSize}`,
  };
}

export function checkHostApi(port: number, taken: number[]): CheckResult {
  return taken.includes(port)
    ? {
        name: "host-api",
        ok: false,
        detail: `host-api vsock port ${port} is already reserved by another dstack-vmm`,
        fix: `pass --host-api-port ${Math.max(...taken) + 1}`,
      }
    : { name: "host-api", ok: true, detail: `vsock port ${port}` };
}
