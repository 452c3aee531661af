/**
 * The auth allowlist (reference/kms-auth.md §2.1): which OS images, apps and
 * compose hashes may get keys. Upstream-compatible file format (camelCase,
 * 2-space JSON). Our schema is strict about types (a wrong type is an error
 * naming the field, and the webhook then fails closed) but ignores unknown keys,
 * as upstream does, so files written by either tool load in both.
 *
 *   parseAllowlist(text) → Allowlist         (throws AllowlistError with the field path)
 *   normalizeHex(s)                          trim, strip 0x/0X, lowercase
 *   emptyAllowlist(pins?)                    a fresh file's content
 *   withAppHash / withoutApp / withOsImages  pure edits
 *   serializeAllowlist(list)                 2-space JSON + newline
 */
import * as v from "valibot";
import { DstackError, ExitCode } from "../core/errors.ts";

const strList = v.array(v.string());

const AppRuleSchema = v.object({
  composeHashes: v.optional(strList, []),
  devices: v.optional(strList, []),
  allowAnyDevice: v.optional(v.boolean(), false),
});

export const AllowlistSchema = v.object({
  osImages: v.optional(strList, []),
  gatewayAppId: v.optional(v.string(), ""),
  kms: v.optional(
    v.object({
      mrAggregated: v.optional(strList, []),
      devices: v.optional(strList, []),
      allowAnyDevice: v.optional(v.boolean(), false),
    }),
    { mrAggregated: [], devices: [], allowAnyDevice: false },
  ),
  apps: v.optional(v.record(v.string(), AppRuleSchema), {}),
  /** Opt-in (auth-simple's stricter policy): when present, tcbStatus must be listed. */
  allowedTcbStatuses: v.optional(strList),
  /** Opt-in: when present, every advisory id of the boot must be listed. */
  allowedAdvisoryIds: v.optional(strList),
});

export type Allowlist = v.InferOutput<typeof AllowlistSchema>;
export type AppRule = v.InferOutput<typeof AppRuleSchema>;

export class AllowlistError extends DstackError {
  readonly path: string;
  constructor(message: string, path: string) {
    super(message, ExitCode.refused);
    this.name = "AllowlistError";
    this.path = path;
  }
}

const CANONICAL_HEX = /^[0-9a-f]*$/;

export function normalizeHex(s: string): string {
  if (CANONICAL_HEX.test(s)) return s; // what the KMS sends: already bare lowercase hex
  return s.trim().replace(/^0x/i, "").toLowerCase();
}

export function parseAllowlist(text: string): Allowlist {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new AllowlistError(`invalid JSON: ${(e as Error).message}`, "");
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new AllowlistError("the allowlist must be a JSON object", "");
  const r = v.safeParse(AllowlistSchema, raw);
  if (!r.success) {
    const issue = r.issues[0]!;
    const path = v.getDotPath(issue) ?? "";
    throw new AllowlistError(`${path || "(top level)"}: ${issue.message}`, path);
  }
  return r.output;
}

export function emptyAllowlist(osImagePins: string[] = []): Allowlist {
  return {
    osImages: osImagePins.map(normalizeHex),
    gatewayAppId: "",
    kms: { mrAggregated: [], devices: [], allowAnyDevice: true },
    apps: {},
  };
}

export function serializeAllowlist(list: Allowlist): string {
  return `${JSON.stringify(list, null, 2)}\n`;
}

/** The app entry whose normalised key equals the normalised appId. */
export function findApp(list: Allowlist, appId: string): [string, AppRule] | undefined {
  const want = normalizeHex(appId);
  for (const [k, rule] of Object.entries(list.apps)) if (normalizeHex(k) === want) return [k, rule];
  return undefined;
}

export function withAppHash(list: Allowlist, appId: string, hash: string): { list: Allowlist; added: boolean } {
  const id = normalizeHex(appId);
  const h = normalizeHex(hash);
  const found = findApp(list, id);
  if (found?.[1].composeHashes.some((x) => normalizeHex(x) === h)) return { list, added: false };
  const apps = { ...list.apps };
  if (found) apps[found[0]] = { ...found[1], composeHashes: [...found[1].composeHashes, h] };
  else apps[id] = { composeHashes: [h], devices: [], allowAnyDevice: true };
  return { list: { ...list, apps }, added: true };
}

/** Remove one hash (the app stays if it has others) or, without a hash, the whole app. */
export function withoutApp(list: Allowlist, appId: string, hash?: string): { list: Allowlist; removed: number } {
  const found = findApp(list, appId);
  if (!found) return { list, removed: 0 };
  const [key, rule] = found;
  const apps = { ...list.apps };
  if (hash === undefined) {
    delete apps[key];
    return { list: { ...list, apps }, removed: rule.composeHashes.length || 1 };
  }
  const h = normalizeHex(hash);
  const kept = rule.composeHashes.filter((x) => normalizeHex(x) !== h);
  if (kept.length === rule.composeHashes.length) return { list, removed: 0 };
  if (kept.length === 0) delete apps[key];
  else apps[key] = { ...rule, composeHashes: kept };
  return { list: { ...list, apps }, removed: 1 };
}

export function withOsImages(list: Allowlist, pins: string[]): Allowlist {
  return { ...list, osImages: pins.map(normalizeHex) };
}
