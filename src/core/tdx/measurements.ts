/**
 * dstack's aggregate measurement of a TDX guest, from the TD report:
 * mr_aggregated = sha256(MRTD ‖ RTMR0 ‖ RTMR1 ‖ RTMR2 ‖ RTMR3 [‖ MRCONFIGID ‖ MROWNER ‖ MROWNERCONFIG]),
 * the bracketed part only when one of those three is non-zero.
 *
 * Upstream: Dstack-TEE/dstack: dstack/dstack-attest/src/attestation.rs (decode_mr_tdx_from_quote).
 */

import { sha256Hex } from "../hash.ts";
import type { TdReport } from "./quote.ts";

type Mrs = Pick<TdReport, "mrTd" | "rtmr0" | "rtmr1" | "rtmr2" | "rtmr3"> &
  Partial<Pick<TdReport, "mrConfigId" | "mrOwner" | "mrOwnerConfig">>;

export function mrAggregatedOf(r: Mrs): string {
  const parts = [r.mrTd, r.rtmr0, r.rtmr1, r.rtmr2, r.rtmr3];
  const extra = [r.mrConfigId, r.mrOwner, r.mrOwnerConfig].map((v) => v ?? "0".repeat(96));
  if (extra.some((v) => /[^0]/.test(v))) parts.push(...extra);
  return sha256Hex(Buffer.from(parts.join(""), "hex"));
}
