/**
 * Key-release decisions (Dstack-TEE/dstack: dstack/crates/dstack-auth/src/main.rs, the single-operator rules
 * of upstream's Rust webhook). First failing check wins.
 *   app: OS image pin (empty osImages = any) → app registered → compose hash → device
 *   kms: mrAggregated → device
 * Opt-in (auth-simple's stricter policy): allowedTcbStatuses / allowedAdvisoryIds
 * in the allowlist turn on the TCB status / advisory checks, first.
 */
import { type Allowlist, AllowlistError, normalizeHex } from "./allowlist.ts";

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

function str(o: Record<string, unknown>, k: keyof BootInfo): string {
  const v = o[k];
  if (typeof v === "string") return v;
  if (v === undefined) return "";
  throw new TypeError(`field ${k} must be a string`);
}

/**
 * A BootInfo from untrusted JSON: missing fields default to "" / []; wrong
 * types are errors naming the field. Written out field by field: one object
 * shape, no computed keys (this runs on every request).
 */
export function parseBootInfo(raw: unknown): BootInfo {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new TypeError("the body must be a JSON object (BootInfo)");
  const o = raw as Record<string, unknown>;
  const adv = o.advisoryIds;
  let advisoryIds: string[] = [];
  if (adv !== undefined) {
    if (!Array.isArray(adv) || !adv.every((x) => typeof x === "string"))
      throw new TypeError("field advisoryIds must be an array of strings");
    advisoryIds = adv;
  }
  return {
    teeVariant: str(o, "teeVariant"),
    mrAggregated: str(o, "mrAggregated"),
    osImageHash: str(o, "osImageHash"),
    mrSystem: str(o, "mrSystem"),
    appId: str(o, "appId"),
    composeHash: str(o, "composeHash"),
    instanceId: str(o, "instanceId"),
    deviceId: str(o, "deviceId"),
    keyProviderInfo: str(o, "keyProviderInfo"),
    tcbStatus: str(o, "tcbStatus"),
    advisoryIds,
  };
}

/** An allowlist with every hex value normalised once, for O(1) decisions per request. */
export interface Compiled {
  gatewayAppId: string;
  osImages: Set<string>;
  kms: { mr: Set<string>; devices: Set<string>; anyDevice: boolean };
  apps: Map<string, { hashes: Set<string>; devices: Set<string>; anyDevice: boolean }>;
  tcb: Set<string> | undefined;
  advisories: Set<string> | undefined;
}

export function compileAllowlist(list: Allowlist): Compiled {
  const set = (xs: string[]) => new Set(xs.map(normalizeHex));
  const apps = new Map<string, { hashes: Set<string>; devices: Set<string>; anyDevice: boolean }>();
  for (const [k, r] of Object.entries(list.apps)) {
    const key = normalizeHex(k);
    // parseAllowlist refuses such a file; one built otherwise must not let either spelling decide
    if (apps.has(key)) throw new AllowlistError(`apps: two keys are the same app id ${key}`, `apps.${k}`);
    apps.set(key, { hashes: set(r.composeHashes), devices: set(r.devices), anyDevice: r.allowAnyDevice || r.devices.length === 0 });
  }
  return {
    gatewayAppId: list.gatewayAppId,
    osImages: set(list.osImages),
    kms: {
      mr: set(list.kms.mrAggregated),
      devices: set(list.kms.devices),
      anyDevice: list.kms.allowAnyDevice || list.kms.devices.length === 0,
    },
    apps,
    tcb: list.allowedTcbStatuses ? new Set(list.allowedTcbStatuses) : undefined,
    advisories: list.allowedAdvisoryIds ? new Set(list.allowedAdvisoryIds) : undefined,
  };
}

function tcbProblem(c: Compiled, b: BootInfo): string | undefined {
  if (c.tcb && !c.tcb.has(b.tcbStatus)) return "TCB status is not allowed";
  if (c.advisories && !b.advisoryIds.every((a) => c.advisories!.has(a))) return "advisory ID is not allowed";
  return undefined;
}

const compiledOf = (l: Allowlist | Compiled): Compiled =>
  l instanceof Object && "apps" in l && l.apps instanceof Map ? (l as Compiled) : compileAllowlist(l as Allowlist);

export function decideApp(list: Allowlist | Compiled, b: BootInfo): Decision {
  const c = compiledOf(list);
  const deny = (reason: string): Decision => ({ isAllowed: false, gatewayAppId: c.gatewayAppId, reason });
  const tcb = tcbProblem(c, b);
  if (tcb) return deny(tcb);
  if (c.osImages.size > 0 && !c.osImages.has(normalizeHex(b.osImageHash))) return deny("os image not allowed");
  const app = c.apps.get(normalizeHex(b.appId));
  if (!app) return deny("app not registered");
  if (!app.hashes.has(normalizeHex(b.composeHash))) return deny("compose hash not allowed");
  if (!app.anyDevice && !app.devices.has(normalizeHex(b.deviceId))) return deny("device not allowed");
  return { isAllowed: true, gatewayAppId: c.gatewayAppId, reason: "ok" };
}

export function decideKms(list: Allowlist | Compiled, b: BootInfo): Decision {
  const c = compiledOf(list);
  const deny = (reason: string): Decision => ({ isAllowed: false, gatewayAppId: c.gatewayAppId, reason });
  const tcb = tcbProblem(c, b);
  if (tcb) return deny(tcb);
  if (!c.kms.mr.has(normalizeHex(b.mrAggregated))) return deny("kms mrAggregated not allowed");
  if (!c.kms.anyDevice && !c.kms.devices.has(normalizeHex(b.deviceId))) return deny("device not allowed");
  return { isAllowed: true, gatewayAppId: c.gatewayAppId, reason: "ok" };
}
