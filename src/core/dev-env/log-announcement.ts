/**
 * The host-key announcement in a run's serial log (pure): the last well-formed one — a CVM that
 * restarted announces again, and the latest boot's is the key its sshd now holds. A malformed
 * line is skipped but remembered, so "none found" can say why.
 */
import { type HostKeyAnnouncement, parseHostKeyLine } from "./host-key-line.ts";

export function lastAnnouncement(log: string): { found?: HostKeyAnnouncement; malformed?: string } {
  let found: HostKeyAnnouncement | undefined;
  let malformed: string | undefined;
  for (const line of log.split("\n")) {
    try {
      found = parseHostKeyLine(line) ?? found;
    } catch (e) {
      malformed = (e as Error).message;
    }
  }
  return { ...(found ? { found } : {}), ...(malformed ? { malformed } : {}) };
}
