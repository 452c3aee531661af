import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import {
  authorizedKeysSha256,
  HOST_KEY_LINE_PREFIX,
  hostKeyReportData,
  parseHostKeyLine,
} from "../../../src/core/dev-env/host-key-line.ts";

const KEY = "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTY=";
const KEYS = "ab".repeat(32);
const answer = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64");
const events = [{ imr: 3, event_type: 134217729, digest: "00", event: "app-id", event_payload: "ab" }];

describe("the ssh-host-key line", () => {
  test("report data is sha512 of the prefixed key line and the authorized keys' sha256: the quote is about the key and who may log in", () => {
    const want = createHash("sha512").update(`dstack-ssh-host-key:ecdsa-sha2-nistp256 ${KEY} ${KEYS}`).digest();
    expect(Buffer.from(hostKeyReportData("ecdsa-sha2-nistp256", KEY, KEYS)).equals(want)).toBe(true);
    expect(hostKeyReportData("ecdsa-sha2-nistp256", KEY, KEYS).length).toBe(64);
    expect(Buffer.from(hostKeyReportData("ssh-ed25519", KEY, KEYS)).equals(want)).toBe(false);
    expect(Buffer.from(hostKeyReportData("ecdsa-sha2-nistp256", KEY, "cd".repeat(32))).equals(want)).toBe(false);
    expect(authorizedKeysSha256("ssh-ed25519 AAAA me")).toBe(createHash("sha256").update("ssh-ed25519 AAAA me").digest("hex"));
  });

  test("parses the key, the quote and the event log after a log prefix", () => {
    const line = `2026-12-01T00:00:00Z app-1 | ${HOST_KEY_LINE_PREFIX}ecdsa-sha2-nistp256 ${KEY} ${KEYS} ${answer({ quote: "0a0b", event_log: JSON.stringify(events), report_data: "cc" })}`;
    const a = parseHostKeyLine(line);
    expect(a?.keyType).toBe("ecdsa-sha2-nistp256");
    expect(a?.keyBase64).toBe(KEY);
    expect(a?.authorizedKeysSha256).toBe(KEYS);
    expect([...(a?.quote ?? [])]).toEqual([10, 11]);
    expect(a?.eventLog).toEqual(events);
    expect(a?.reportData).toBe("cc");
  });

  test("other lines are not announcements", () => {
    expect(parseHostKeyLine("[dstack] exited (0)")).toBeUndefined();
  });

  test("malformed announcements are refused, saying what is wrong", () => {
    expect(() => parseHostKeyLine(`${HOST_KEY_LINE_PREFIX}ecdsa-sha2-nistp256 ${KEY}`)).toThrow(/malformed/);
    expect(() => parseHostKeyLine(`${HOST_KEY_LINE_PREFIX}ecdsa ${KEY} ${answer({ quote: "00", event_log: "[]" })}`)).toThrow(/malformed/);
    expect(() => parseHostKeyLine(`${HOST_KEY_LINE_PREFIX}ecdsa ${KEY} xyz ${answer({ quote: "00", event_log: "[]" })}`)).toThrow(
      /malformed/,
    );
    expect(() => parseHostKeyLine(`${HOST_KEY_LINE_PREFIX}ecdsa ${KEY} ${KEYS} ${Buffer.from("nope").toString("base64")}`)).toThrow(
      /not base64 JSON/,
    );
    expect(() => parseHostKeyLine(`${HOST_KEY_LINE_PREFIX}ecdsa ${KEY} ${KEYS} ${answer({ quote: "zz", event_log: "[]" })}`)).toThrow(
      /no quote/,
    );
    expect(() => parseHostKeyLine(`${HOST_KEY_LINE_PREFIX}ecdsa ${KEY} ${KEYS} ${answer({ quote: "00", event_log: "{" })}`)).toThrow(
      /not JSON/,
    );
    expect(() => parseHostKeyLine(`${HOST_KEY_LINE_PREFIX}ecdsa ${KEY} ${KEYS} ${answer({ quote: "00", event_log: "{}" })}`)).toThrow(
      /not a list/,
    );
  });
});
