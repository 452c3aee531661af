import { describe, expect, test } from "bun:test";
import { HOST_KEY_LINE_PREFIX } from "../../../src/core/dev-env/host-key-line.ts";
import { lastAnnouncement } from "../../../src/core/dev-env/log-announcement.ts";

const answer = Buffer.from(JSON.stringify({ quote: "00", event_log: "[]" })).toString("base64");
const line = (key: string) => `run-1  | ${HOST_KEY_LINE_PREFIX}ssh-ed25519 ${key} ${"ab".repeat(32)} ${answer}`;

describe("the announcement in a run's log", () => {
  test("the last one wins (a restarted CVM announces again)", () => {
    const log = ["boot", line("AAAA"), "[dstack] exited (0)", line("BBBB"), ""].join("\n");
    expect(lastAnnouncement(log).found?.keyBase64).toBe("BBBB");
  });

  test("only this boot's: an earlier boot's line (an older compose's quote, after an update in place) is not taken while the new boot has not announced", () => {
    const boot = (t: string) => `===== boot @ ${t} =====`;
    const log = [boot("2026-12-01T10:00:00Z"), line("AAAA"), boot("2026-12-01T11:00:00Z"), "run-1  | starting", ""].join("\n");
    expect(lastAnnouncement(log)).toEqual({});
    expect(lastAnnouncement(`${log}${line("BBBB")}\n`).found?.keyBase64).toBe("BBBB");
  });

  test("none: nothing found; a malformed one is remembered, a later good one still found", () => {
    expect(lastAnnouncement("boot\nrunning\n")).toEqual({});
    const bad = `${HOST_KEY_LINE_PREFIX}ssh-ed25519 AAAA`;
    expect(lastAnnouncement(bad).malformed).toContain("malformed");
    expect(lastAnnouncement(`${bad}\n${line("CCCC")}`).found?.keyBase64).toBe("CCCC");
  });
});
