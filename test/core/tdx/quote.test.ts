import { describe, expect, test } from "bun:test";
import { encodeSimulatedQuote, parseTdxQuote, SIM_CERT_DATA } from "../../../src/core/tdx/quote.ts";

const rtmrs = ["01", "02", "03", "04"].map((b) => b.repeat(48)) as [string, string, string, string];
const input = { mrTd: "0f".repeat(48), rtmrs, reportData: Buffer.from("report") };

describe("simulated TDX quote", () => {
  test("v4 header, TDX tee type, ECDSA-P256 key type; fields round-trip", () => {
    const q = parseTdxQuote(encodeSimulatedQuote(input));
    expect([q.version, q.attKeyType, q.teeType]).toEqual([4, 2, 0x81]);
    expect(q.report.mrTd).toBe(input.mrTd);
    expect([q.report.rtmr0, q.report.rtmr1, q.report.rtmr2, q.report.rtmr3]).toEqual(rtmrs);
    expect(q.report.reportData).toBe(Buffer.from("report").toString("hex").padEnd(128, "0"));
    expect(q.report.mrConfigId).toBe("0".repeat(96));
  });

  test("the layout: 48-byte header, 584-byte body, u32 length, signature data of that length", () => {
    const b = Buffer.from(encodeSimulatedQuote(input));
    const sigLen = b.readUInt32LE(48 + 584);
    expect(b.length).toBe(48 + 584 + 4 + sigLen);
    // report data is the last 64 bytes of the body; RTMR3 the 48 before it
    expect(b.subarray(48 + 584 - 64, 48 + 584 - 58).toString()).toBe("report");
    expect(b.subarray(48 + 584 - 112, 48 + 584 - 64).toString("hex")).toBe(rtmrs[3]);
    // signature data: zero signature and key, then certification data type 6
    expect(b.subarray(636, 636 + 128).every((x) => x === 0)).toBe(true);
    expect(b.readUInt16LE(636 + 128)).toBe(6);
  });

  test("clearly simulated: marker in the header, zero QE vendor id, a plain-text marker instead of the PCK chain", () => {
    const b = encodeSimulatedQuote(input);
    const q = parseTdxQuote(b);
    expect(q.simulated).toBe(true);
    expect(q.qeVendorId).toBe("0".repeat(32));
    expect(Buffer.from(b).includes(Buffer.from(SIM_CERT_DATA))).toBe(true);
    const real = Buffer.from(b);
    real.fill(0, 28, 48);
    expect(parseTdxQuote(real).simulated).toBe(false);
  });

  test("refuses report data over 64 bytes and bad field sizes; parse refuses truncated or foreign quotes", () => {
    expect(() => encodeSimulatedQuote({ ...input, reportData: Buffer.alloc(65) })).toThrow("at most 64");
    expect(() => encodeSimulatedQuote({ ...input, mrTd: "00" })).toThrow("mrTd must be 48 bytes");
    const b = Buffer.from(encodeSimulatedQuote(input));
    expect(() => parseTdxQuote(b.subarray(0, 600))).toThrow("at least");
    expect(() => parseTdxQuote(b.subarray(0, b.length - 1))).toThrow("exceeds");
    expect(parseTdxQuote(Buffer.concat([b, Buffer.alloc(70)])).signatureData.length).toBe(b.length - 636); // driver padding
    const v3 = Buffer.from(b);
    v3.writeUInt16LE(3, 0);
    expect(() => parseTdxQuote(v3)).toThrow("unsupported quote version 3");
  });
});
