/** Which registrations no VM relies on (src/auth/unused.ts), pure. */
import { describe, expect, test } from "bun:test";
import { parseAllowlist } from "../../src/auth/allowlist.ts";
import { unusedRegistrations, withoutWithdrawals } from "../../src/auth/unused.ts";

const A = "aa".repeat(20);
const B = "bb".repeat(20);
const H1 = "11".repeat(32);
const H2 = "22".repeat(32);
const list = parseAllowlist(
  JSON.stringify({
    apps: { [`0x${A.toUpperCase()}`]: { composeHashes: [H1, `0x${H2}`] }, [B]: { composeHashes: [H1] }, ["cc".repeat(20)]: {} },
  }),
);

describe("unusedRegistrations", () => {
  test("prune: a hash no VM boots goes, an app left with none goes whole; spellings compared normalised", () => {
    const ws = unusedRegistrations(list, [{ appId: A, composeHash: H2.toUpperCase() }]);
    expect(ws).toEqual([
      { appKey: `0x${A.toUpperCase()}`, appId: A, hashes: [H1], wholeApp: false },
      { appKey: B, appId: B, hashes: [H1], wholeApp: true },
      { appKey: "cc".repeat(20), appId: "cc".repeat(20), hashes: [], wholeApp: true },
    ]);
    const after = withoutWithdrawals(list, ws);
    expect(after.apps).toEqual({ [`0x${A.toUpperCase()}`]: { composeHashes: [`0x${H2}`], devices: [], allowAnyDevice: false } });
  });

  test("a VM whose compose is not known keeps every hash of its app; scope narrows to one app and some hashes", () => {
    expect(unusedRegistrations(list, [{ appId: A, composeHash: undefined }], { appId: A })).toEqual([]);
    expect(unusedRegistrations(list, [], { appId: `0x${A}`, hashes: [H2] })).toEqual([
      { appKey: `0x${A.toUpperCase()}`, appId: A, hashes: [`0x${H2}`], wholeApp: false },
    ]);
    expect(unusedRegistrations(list, [{ appId: B, composeHash: H1 }], { appId: B })).toEqual([]);
    expect(unusedRegistrations(list, [], { appId: "dd".repeat(20) })).toEqual([]);
  });
});
