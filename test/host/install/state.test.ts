import { describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DamagedStateError, installPlatform, readClientState, readInstallState } from "../../../src/host/install/state.ts";

function stateFile(text?: string): string {
  const p = join(mkdtempSync(join(tmpdir(), "state-")), "dstackup-state.json");
  if (text !== undefined) writeFileSync(p, text);
  return p;
}

describe("reading the install state", () => {
  test("no file: undefined (not installed)", () => {
    expect(readInstallState(stateFile())).toBeUndefined();
    expect(readClientState(stateFile())).toBeUndefined();
  });

  test("a file that is there but damaged is an error naming it (exit 4), for dstackup and the client alike", () => {
    const cases: [string, RegExp][] = [
      ['{"prefix": 5, garbage', /is damaged: not JSON/],
      ["[1]", /is damaged: not a JSON object/],
      ["{}", /is damaged: .*client_url/],
      ['{"prefix": 5, "client_url": "http://127.0.0.1:9080", "auth_port": 8001}', /is damaged: prefix: /],
    ];
    for (const [text, re] of cases) {
      const p = stateFile(text);
      for (const read of [readInstallState, readClientState]) {
        if (read === readClientState && text.includes("client_url")) continue; // the client reads loosely
        let err: unknown;
        try {
          read(p);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(DamagedStateError);
        expect((err as DamagedStateError).exitCode).toBe(4);
        expect((err as Error).message).toContain(p);
        expect((err as Error).message).toMatch(re);
      }
    }
  });

  test.skipIf(process.getuid?.() === 0)("an unreadable file is damaged too, not absent", () => {
    const p = stateFile("{}");
    chmodSync(p, 0);
    expect(() => readInstallState(p)).toThrow(/cannot read it \(EACCES\)/);
  });

  test("the platform: simulated for --simulate, also from a file that recorded it as tdx; a real host's TEE as written", () => {
    const base = { prefix: "/var/lib/dstack", client_url: "http://127.0.0.1:9080", auth_port: 8001 };
    const read = (o: object) => installPlatform(readInstallState(stateFile(JSON.stringify({ ...base, ...o })))!);
    expect(read({ platform: "simulated", simulate: true })).toBe("simulated");
    expect(read({ platform: "tdx", simulate: true })).toBe("simulated"); // written before the fix
    expect(read({ platform: "tdx", simulate: false })).toBe("tdx");
    expect(read({ platform: "amd-sev-snp" })).toBe("amd-sev-snp"); // upstream's file: no simulate key
  });
});
