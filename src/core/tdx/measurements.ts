/**
 * dstack's aggregate measurements of a TDX guest, from the TD report:
 * mr_system = sha256(MRTD ‖ RTMR0 ‖ RTMR1 ‖ RTMR2 ‖ sha256(key-provider info), or 32 zero bytes without one);
 * mr_aggregated = sha256(MRTD ‖ RTMR0 ‖ RTMR1 ‖ RTMR2 ‖ RTMR3), followed by
 * MRCONFIGID ‖ MROWNER ‖ MROWNERCONFIG when any of those is non-zero.
 */
import { createHash } from "node:crypto";
import type { TdReport } from "./quote.ts";

const sha256 = (parts: string[]) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(Buffer.from(p, "hex"));
  return h.digest("hex");
};

type Mrs = Pick<TdReport, "mrTd" | "rtmr0" | "rtmr1" | "rtmr2" | "rtmr3"> &
  Partial<Pick<TdReport, "mrConfigId" | "mrOwner" | "mrOwnerConfig">>;

export function mrAggregatedOf(r: Mrs): string {
  const parts = [r.mrTd, r.rtmr0, r.rtmr1, r.rtmr2, r.rtmr3];
  const extra = [r.mrConfigId, r.mrOwner, r.mrOwnerConfig].map((v) => v ?? "0".repeat(96));
  if (extra.some((v) => /[^0]/.test(v))) parts.push(...extra);
  return sha256(parts);
}

/** keyProviderInfo: the raw bytes of the key-provider event's payload (hex), "" when there is none. */
export function mrSystemOf(r: Mrs, keyProviderInfo: string): string {
  const kp = keyProviderInfo ? sha256([keyProviderInfo]) : "0".repeat(64);
  return sha256([r.mrTd, r.rtmr0, r.rtmr1, r.rtmr2, kp]);
}
