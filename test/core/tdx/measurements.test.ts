import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mrAggregatedOf } from "../../../src/core/tdx/measurements.ts";

const mrs = { mrTd: "01".repeat(48), rtmr0: "02".repeat(48), rtmr1: "03".repeat(48), rtmr2: "04".repeat(48), rtmr3: "05".repeat(48) };
const sha256 = (...hex: string[]) =>
  createHash("sha256")
    .update(Buffer.from(hex.join(""), "hex"))
    .digest("hex");

describe("dstack aggregate measurement", () => {
  test("mr_aggregated: sha256(MRTD ‖ RTMR0..3), with MRCONFIGID ‖ MROWNER ‖ MROWNERCONFIG only when one is set", () => {
    expect(mrAggregatedOf(mrs)).toBe(sha256(mrs.mrTd, mrs.rtmr0, mrs.rtmr1, mrs.rtmr2, mrs.rtmr3));
    const zero = "0".repeat(96);
    expect(mrAggregatedOf({ ...mrs, mrConfigId: zero, mrOwner: zero, mrOwnerConfig: zero })).toBe(mrAggregatedOf(mrs));
    const cfg = "09".repeat(48);
    expect(mrAggregatedOf({ ...mrs, mrConfigId: cfg })).toBe(sha256(mrs.mrTd, mrs.rtmr0, mrs.rtmr1, mrs.rtmr2, mrs.rtmr3, cfg, zero, zero));
  });
});
