/**
 * The host-key announcement in a run's serial log (pure): the last well-formed one of the CVM's
 * current boot — a CVM that restarted announces again, and until it has, an earlier boot's line
 * (after an update in place, a quote of the older compose) is not this boot's key. A malformed
 * line is skipped but remembered, so "none found" can say why.
 */
import { currentBoot } from "../dstack-run/run-status.ts";
import { type HostKeyAnnouncement, parseHostKeyLine } from "./host-key-line.ts";

export function lastAnnouncement(log: string): { found?: HostKeyAnnouncement; malformed?: string } {
  let found: HostKeyAnnouncement | undefined;
  let malformed: string | undefined;
  for (const line of currentBoot(log).split("\n")) {
    try {
      found = parseHostKeyLine(line) ?? found;
    } catch (e) {
      malformed = (e as Error).message;
    }
  }
  return { ...(found ? { found } : {}), ...(malformed ? { malformed } : {}) };
}
