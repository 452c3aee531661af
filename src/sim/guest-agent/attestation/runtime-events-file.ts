/**
 * The events an app emitted, kept where the VM's state lives, so that an agent
 * restarted under a still-running VM (a simulator restart) keeps RTMR3 as the
 * hardware would. One JSON line per event, {"event": name, "payload": base64},
 * the format of the guest's /run/log/dstack/runtime_events.log; mode 0600.
 * The file belongs to one boot: whoever boots the VM again removes it first.
 * A torn last line (a crash mid-append) is dropped; any other bad line is an error.
 *
 * Upstream: Dstack-TEE/dstack: dstack/cc-eventlog/src/runtime_events.rs.
 */
import { appendFileSync, readFileSync } from "node:fs";

export interface EmittedEvent {
  event: string;
  payload: Uint8Array;
}

export function readRuntimeEvents(path: string): EmittedEvent[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
  const lines = text.split("\n");
  lines.pop(); // what follows the last newline: "" or a torn line
  const events: EmittedEvent[] = [];
  for (const [i, line] of lines.entries()) {
    if (!line.trim()) continue;
    let v: { event?: unknown; payload?: unknown };
    try {
      v = JSON.parse(line);
    } catch {
      throw new Error(`${path}:${i + 1}: not a runtime event line`);
    }
    if (typeof v.event !== "string" || typeof v.payload !== "string") throw new Error(`${path}:${i + 1}: not a runtime event line`);
    events.push({ event: v.event, payload: new Uint8Array(Buffer.from(v.payload, "base64")) });
  }
  return events;
}

export function appendRuntimeEvent(path: string, e: EmittedEvent): void {
  appendFileSync(path, `${JSON.stringify({ event: e.event, payload: Buffer.from(e.payload).toString("base64") })}\n`, { mode: 0o600 });
}
