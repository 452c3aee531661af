/**
 * Which registrations no VM relies on (pure). A VM relies on the pair (its app
 * id, the compose hash of the compose file it would boot); a VM whose compose
 * is not known relies on every hash of its app. The callers gather the VMs
 * (src/client/allowlist/registration.ts) and hold the allowlist lock.
 */
import { type Allowlist, appsRecord, normalizeHex } from "./allowlist.ts";

/** What one VM would boot: its app id and compose hash (undefined: not known, so every hash of the app). */
export interface VmUse {
  appId: string;
  composeHash: string | undefined;
}

/** One app's registrations: the spelling of its key in the file, and the hashes in question. */
export interface Withdrawal {
  appKey: string;
  appId: string;
  hashes: string[];
  /** Every hash of the app goes, so its entry goes. */
  wholeApp: boolean;
}

/**
 * The registrations among `scope` that no VM in `uses` relies on. `scope`
 * narrows the question to one app (and, optionally, some of its hashes);
 * without it, every app of the list is considered (prune).
 */
export function unusedRegistrations(list: Allowlist, uses: VmUse[], scope?: { appId: string; hashes?: string[] }): Withdrawal[] {
  const used = new Map<string, Set<string> | "all">();
  for (const u of uses) {
    const id = normalizeHex(u.appId);
    let set = used.get(id);
    if (set === "all") continue;
    if (u.composeHash === undefined) {
      used.set(id, "all");
      continue;
    }
    if (!set) {
      set = new Set();
      used.set(id, set);
    }
    set.add(normalizeHex(u.composeHash));
  }
  const wantApp = scope && normalizeHex(scope.appId);
  const wantHashes = scope?.hashes && new Set(scope.hashes.map(normalizeHex));
  const out: Withdrawal[] = [];
  for (const appKey of Object.keys(list.apps)) {
    const appId = normalizeHex(appKey);
    if (wantApp !== undefined && appId !== wantApp) continue;
    const inUse = used.get(appId);
    if (inUse === "all") continue;
    const all = list.apps[appKey]!.composeHashes;
    const candidates = wantHashes ? all.filter((h) => wantHashes.has(normalizeHex(h))) : all;
    const hashes = candidates.filter((h) => !inUse?.has(normalizeHex(h)));
    const left = all.filter((h) => !hashes.includes(h));
    if (hashes.length > 0 || (all.length === 0 && !inUse && !wantHashes)) out.push({ appKey, appId, hashes, wholeApp: left.length === 0 });
  }
  return out;
}

/** The list without the withdrawn hashes; an app left with none is removed. */
export function withoutWithdrawals(list: Allowlist, ws: Withdrawal[]): Allowlist {
  if (ws.length === 0) return list;
  const apps = appsRecord(list.apps);
  for (const w of ws) {
    const rule = apps[w.appKey];
    if (!rule) continue;
    if (w.wholeApp) delete apps[w.appKey];
    else apps[w.appKey] = { ...rule, composeHashes: rule.composeHashes.filter((h) => !w.hashes.includes(h)) };
  }
  return { ...list, apps };
}
