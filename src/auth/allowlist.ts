/**
 * The auth allowlist (Dstack-TEE/dstack: dstack/crates/dstack-auth/src/main.rs): which OS images, apps and
 * compose hashes may get keys. Upstream-compatible file format (camelCase,
 * 2-space JSON). The schema is strict: a wrong type (`"apps": [...]` included)
 * or an unknown key is an error naming the field, and the webhook then fails
 * closed; a misspelt `osImages` must not quietly lift the image pin. The keys
 * auth-simple adds for its GET / (kmsContractAddr, chainId, appImplementation)
 * are known and kept, so its files load here too.
 *
 * App ids are the `apps` map's keys, compared normalised (normalizeHex). Two
 * keys that normalise to one id are an error (which of them decides would be
 * arbitrary), unless the caller asks to see them (revoke removes every
 * spelling). Keys are kept verbatim in a null-prototype record, so `__proto__`,
 * `constructor` or `prototype` are ordinary (never matching) app ids, neither
 * dropped nor able to reach Object.prototype.
 *
 *   parseAllowlist(text, opts?) → Allowlist  (throws AllowlistError with the field path)
 *   normalizeHex(s)                          trim, strip 0x/0X, lowercase
 *   emptyAllowlist(pins?)                    a fresh file's content
 *   withAppHash / withoutApp / withOsImages  pure edits
 *   serializeAllowlist(list)                 2-space JSON + newline
 */
import * as v from "valibot";
import { RefusedError } from "../core/errors.ts";

const strList = v.array(v.string());

const AppRuleSchema = v.strictObject({
  composeHashes: v.optional(strList, []),
  devices: v.optional(strList, []),
  allowAnyDevice: v.optional(v.boolean(), false),
});

const TopSchema = v.strictObject({
  osImages: v.optional(strList, []),
  gatewayAppId: v.optional(v.string(), ""),
  kms: v.optional(
    v.strictObject({
      mrAggregated: v.optional(strList, []),
      devices: v.optional(strList, []),
      allowAnyDevice: v.optional(v.boolean(), false),
    }),
    { mrAggregated: [], devices: [], allowAnyDevice: false },
  ),
  /** Checked key by key in parseApps (valibot's record accepts arrays and drops `__proto__`). */
  apps: v.optional(v.unknown()),
  /** Opt-in (auth-simple's stricter policy): when present, tcbStatus must be listed. */
  allowedTcbStatuses: v.optional(strList),
  /** Opt-in: when present, every advisory id of the boot must be listed. */
  allowedAdvisoryIds: v.optional(strList),
  // auth-simple's GET / fields: not used by our webhook, kept on rewrite
  kmsContractAddr: v.optional(v.string()),
  chainId: v.optional(v.number()),
  appImplementation: v.optional(v.string()),
});

export type AppRule = v.InferOutput<typeof AppRuleSchema>;
/** A null-prototype record: any string, `__proto__` included, is an own key. */
export type Apps = Record<string, AppRule>;
export type Allowlist = Omit<v.InferOutput<typeof TopSchema>, "apps"> & { apps: Apps };

/** A fresh null-prototype apps record, optionally with the entries of `from`. */
export function appsRecord(from?: Apps): Apps {
  const out: Apps = Object.create(null);
  if (from) for (const k of Object.keys(from)) out[k] = from[k]!;
  return out;
}

/** An allowlist that does not validate: the webhook denies everything until it is fixed. Exit 4. */
export class AllowlistError extends RefusedError {
  readonly path: string;
  constructor(message: string, path: string) {
    super(message);
    this.name = "AllowlistError";
    this.path = path;
  }
}

const CANONICAL_HEX = /^[0-9a-f]*$/;

export function normalizeHex(s: string): string {
  if (CANONICAL_HEX.test(s)) return s; // what the KMS sends: already bare lowercase hex
  return s.trim().replace(/^0x/i, "").toLowerCase();
}

function issueError(issues: [v.BaseIssue<unknown>, ...v.BaseIssue<unknown>[]], prefix: string): AllowlistError {
  const issue = issues[0];
  const path = [prefix, v.getDotPath(issue) ?? ""].filter(Boolean).join(".");
  const message = issue.kind === "schema" && issue.expected === "never" ? `unknown key ${JSON.stringify(issue.input)}` : issue.message;
  return new AllowlistError(`${path || "(top level)"}: ${message}`, path);
}

function parseApps(raw: unknown, collisions: "error" | "allow"): Apps {
  const apps = appsRecord();
  if (raw === undefined) return apps;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw new AllowlistError(
      `apps: must be an object of app id → rule (got ${Array.isArray(raw) ? "an array" : raw === null ? "null" : typeof raw})`,
      "apps",
    );
  const seen = new Map<string, string>();
  for (const key of Object.keys(raw)) {
    const r = v.safeParse(AppRuleSchema, (raw as Record<string, unknown>)[key]);
    if (!r.success) throw issueError(r.issues, `apps.${key}`);
    const id = normalizeHex(key);
    const other = seen.get(id);
    if (other !== undefined && collisions === "error")
      throw new AllowlistError(
        `apps: keys ${JSON.stringify(other)} and ${JSON.stringify(key)} are the same app id ${id} (compared without 0x, case or spaces); keep one`,
        `apps.${key}`,
      );
    seen.set(id, key);
    apps[key] = r.output;
  }
  return apps;
}

/**
 * `collisions: "allow"` keeps keys that normalise to one app id (for revoke,
 * which removes them all); by default they are an error.
 */
export function parseAllowlist(text: string, opts: { collisions?: "error" | "allow" } = {}): Allowlist {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new AllowlistError(`invalid JSON: ${(e as Error).message}`, "");
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new AllowlistError("the allowlist must be a JSON object", "");
  const r = v.safeParse(TopSchema, raw);
  if (!r.success) throw issueError(r.issues, "");
  return { ...r.output, apps: parseApps(r.output.apps, opts.collisions ?? "error") };
}

export function emptyAllowlist(osImagePins: string[] = []): Allowlist {
  return {
    osImages: osImagePins.map(normalizeHex),
    gatewayAppId: "",
    kms: { mrAggregated: [], devices: [], allowAnyDevice: true },
    apps: appsRecord(),
  };
}

export function serializeAllowlist(list: Allowlist): string {
  return `${JSON.stringify(list, null, 2)}\n`;
}

/** Every key of `apps` that normalises to appId (more than one only in a file parsed with collisions allowed). */
export function appKeys(list: Allowlist, appId: string): string[] {
  const want = normalizeHex(appId);
  return Object.keys(list.apps).filter((k) => normalizeHex(k) === want);
}

/** The app entry whose normalised key equals the normalised appId. */
export function findApp(list: Allowlist, appId: string): [string, AppRule] | undefined {
  const key = appKeys(list, appId)[0];
  return key === undefined ? undefined : [key, list.apps[key]!];
}

export function withAppHash(list: Allowlist, appId: string, hash: string): { list: Allowlist; added: boolean } {
  const id = normalizeHex(appId);
  const h = normalizeHex(hash);
  const found = findApp(list, id);
  if (found?.[1].composeHashes.some((x) => normalizeHex(x) === h)) return { list, added: false };
  const apps = appsRecord(list.apps);
  if (found) apps[found[0]] = { ...found[1], composeHashes: [...found[1].composeHashes, h] };
  else apps[id] = { composeHashes: [h], devices: [], allowAnyDevice: true };
  return { list: { ...list, apps }, added: true };
}

/**
 * Remove one hash (an app left with none is removed) or, without a hash, the
 * whole app, from every key that spells its id. `removed` counts the hashes
 * withdrawn (an app without hashes counts 1).
 */
export function withoutApp(list: Allowlist, appId: string, hash?: string): { list: Allowlist; removed: number } {
  const keys = appKeys(list, appId);
  if (keys.length === 0) return { list, removed: 0 };
  const apps = appsRecord(list.apps);
  let removed = 0;
  for (const key of keys) {
    const rule = apps[key]!;
    if (hash === undefined) {
      delete apps[key];
      removed += rule.composeHashes.length || 1;
      continue;
    }
    const h = normalizeHex(hash);
    const kept = rule.composeHashes.filter((x) => normalizeHex(x) !== h);
    if (kept.length === rule.composeHashes.length) continue;
    removed += rule.composeHashes.length - kept.length;
    if (kept.length === 0) delete apps[key];
    else apps[key] = { ...rule, composeHashes: kept };
  }
  return removed === 0 ? { list, removed } : { list: { ...list, apps }, removed };
}

export function withOsImages(list: Allowlist, pins: string[]): Allowlist {
  return { ...list, osImages: pins.map(normalizeHex) };
}
