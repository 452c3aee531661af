/**
 * Key-release decisions (reference/kms-auth.md §2.4, the single-operator rules
 * of upstream's Rust webhook). First failing check wins.
 *   app: OS image pin (empty osImages = any) → app registered → compose hash → device
 *   kms: mrAggregated → device
 * Opt-in (auth-simple's stricter policy): allowedTcbStatuses / allowedAdvisoryIds
 * in the allowlist turn on the TCB status / advisory checks, first.
 */
import { type Allowlist, findApp, normalizeHex } from "./allowlist.ts";

export interface BootInfo {
  teeVariant: string;
  mrAggregated: string;
  osImageHash: string;
  mrSystem: string;
  appId: string;
  composeHash: string;
  instanceId: string;
  deviceId: string;
  keyProviderInfo: string;
  tcbStatus: string;
  advisoryIds: string[];
}

export interface Decision {
  isAllowed: boolean;
  gatewayAppId: string;
  reason: string;
}

const STRING_FIELDS = ["teeVariant", "mrAggregated", "osImageHash", "mrSystem", "appId", "composeHash", "instanceId", "deviceId", "keyProviderInfo", "tcbStatus"] as const;

/** A BootInfo from untrusted JSON: missing fields default to "" / []; wrong types are errors naming the field. */
export function parseBootInfo(raw: unknown): BootInfo {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new TypeError("the body must be a JSON object (BootInfo)");
  const o = raw as Record<string, unknown>;
  const out = { advisoryIds: [] as string[] } as BootInfo;
  for (const k of STRING_FIELDS) {
    const v = o[k];
    if (v === undefined) out[k] = "";
    else if (typeof v === "string") out[k] = v;
    else throw new TypeError(`field ${k} must be a string`);
  }
  const adv = o.advisoryIds;
  if (adv !== undefined) {
    if (!Array.isArray(adv) || !adv.every((x) => typeof x === "string")) throw new TypeError("field advisoryIds must be an array of strings");
    out.advisoryIds = adv;
  }
  return out;
}

const has = (list: string[], v: string) => {
  const n = normalizeHex(v);
  return list.some((x) => normalizeHex(x) === n);
};

function deviceOk(rule: { devices: string[]; allowAnyDevice: boolean }, deviceId: string): boolean {
  return rule.allowAnyDevice || rule.devices.length === 0 || has(rule.devices, deviceId);
}

function tcbProblem(list: Allowlist, b: BootInfo): string | undefined {
  if (list.allowedTcbStatuses && !list.allowedTcbStatuses.includes(b.tcbStatus)) return "TCB status is not allowed";
  if (list.allowedAdvisoryIds && !b.advisoryIds.every((a) => list.allowedAdvisoryIds!.includes(a))) return "advisory ID is not allowed";
  return undefined;
}

export function decideApp(list: Allowlist, b: BootInfo): Decision {
  const deny = (reason: string): Decision => ({ isAllowed: false, gatewayAppId: list.gatewayAppId, reason });
  const tcb = tcbProblem(list, b);
  if (tcb) return deny(tcb);
  if (list.osImages.length > 0 && !has(list.osImages, b.osImageHash)) return deny("os image not allowed");
  const app = findApp(list, b.appId);
  if (!app) return deny("app not registered");
  if (!has(app[1].composeHashes, b.composeHash)) return deny("compose hash not allowed");
  if (!deviceOk(app[1], b.deviceId)) return deny("device not allowed");
  return { isAllowed: true, gatewayAppId: list.gatewayAppId, reason: "ok" };
}

export function decideKms(list: Allowlist, b: BootInfo): Decision {
  const deny = (reason: string): Decision => ({ isAllowed: false, gatewayAppId: list.gatewayAppId, reason });
  const tcb = tcbProblem(list, b);
  if (tcb) return deny(tcb);
  if (!has(list.kms.mrAggregated, b.mrAggregated)) return deny("kms mrAggregated not allowed");
  if (!deviceOk(list.kms, b.deviceId)) return deny("device not allowed");
  return { isAllowed: true, gatewayAppId: list.gatewayAppId, reason: "ok" };
}
