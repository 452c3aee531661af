import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { keccak_256 } from "@noble/hashes/sha3";
import { padReportData, tappdReportData } from "../../../src/core/tdx/report-data.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("report data", () => {
  test("the dstack API pads to 64 bytes and refuses more", () => {
    expect(hex(padReportData(Buffer.from("ab", "hex")))).toBe("ab".padEnd(128, "0"));
    expect(padReportData(Buffer.alloc(64, 1)).length).toBe(64);
    expect(() => padReportData(Buffer.alloc(65))).toThrow("Report data is too long");
  });

  test("tappd: hash(prefix ‖ ':' ‖ content), sha512 and 'app-data' by default, shorter hashes zero-padded", () => {
    const c = Buffer.from("content");
    expect(hex(tappdReportData(c, "", ""))).toBe(createHash("sha512").update("app-data:content").digest("hex"));
    expect(hex(tappdReportData(c, "sha256", "custom"))).toBe(createHash("sha256").update("custom:content").digest("hex").padEnd(128, "0"));
    expect(hex(tappdReportData(c, "sha3-384", ""))).toBe(createHash("sha3-384").update("app-data:content").digest("hex").padEnd(128, "0"));
    expect(hex(tappdReportData(c, "keccak256", ""))).toBe(hex(keccak_256(Buffer.from("app-data:content"))).padEnd(128, "0"));
  });

  test("tappd raw: exactly 64 bytes passed through; unknown algorithms are errors", () => {
    expect(hex(tappdReportData(Buffer.alloc(64, 9), "raw", "ignored"))).toBe("09".repeat(64));
    expect(() => tappdReportData(Buffer.alloc(63), "raw", "")).toThrow("invalid content length");
    expect(() => tappdReportData(Buffer.alloc(1), "md5", "")).toThrow("invalid hash algorithm");
  });
});
