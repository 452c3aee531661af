import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kmsRootKeys, loadOrCreateKeyRoot } from "../../src/sim/guest-agent/attestation/key-root.ts";

const dir = mkdtempSync(join(tmpdir(), "key-root-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(dir, `h${n++}`, "kms", "root.key");

describe("the simulated KMS root key file", () => {
  test("created when missing: 32 random bytes, mode 0600 whatever the umask, no temp file left", () => {
    const p = fresh();
    const old = process.umask(0o277); // would make 0400 of a plain create
    try {
      const root = loadOrCreateKeyRoot(p);
      expect(root.length).toBe(32);
      expect(Buffer.from(readFileSync(p))).toEqual(Buffer.from(root));
    } finally {
      process.umask(old);
    }
    expect(statSync(p).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(p, ".."))).toEqual(["root.key"]);
    expect(Buffer.from(loadOrCreateKeyRoot(fresh()))).not.toEqual(Buffer.from(loadOrCreateKeyRoot(p)));
  });

  test("an existing root is used as it is (keys stay the same), never rewritten", () => {
    const p = fresh();
    mkdirSync(join(p, ".."), { recursive: true });
    writeFileSync(p, Buffer.alloc(32, 5), { mode: 0o600 });
    chmodSync(p, 0o400);
    expect(Buffer.from(loadOrCreateKeyRoot(p))).toEqual(Buffer.alloc(32, 5));
    expect(statSync(p).mode & 0o777).toBe(0o400);
  });

  test("a file of another size is refused, not replaced", () => {
    const p = fresh();
    mkdirSync(join(p, ".."), { recursive: true });
    writeFileSync(p, "short");
    expect(() => loadOrCreateKeyRoot(p)).toThrow("must be 32 bytes, found 5");
    expect(readFileSync(p, "utf8")).toBe("short");
  });

  test("agents creating it at the same moment all get the one root that landed", async () => {
    const p = fresh();
    const child = join(import.meta.dir, "fixtures", "key-root-child.ts");
    const procs = Array.from({ length: 6 }, () => Bun.spawn([process.execPath, child, p], { stdout: "pipe", stderr: "inherit" }));
    const outs = await Promise.all(procs.map((c) => new Response(c.stdout).text()));
    expect(await Promise.all(procs.map((c) => c.exited))).toEqual(Array(6).fill(0));
    expect(new Set(outs).size).toBe(1);
    expect(outs[0]).toBe(readFileSync(p).toString("hex"));
    expect(readdirSync(join(p, ".."))).toEqual(["root.key"]);
  });

  test("the k256 and CA keys are derived from the root, distinct and stable", () => {
    const a = kmsRootKeys(new Uint8Array(32).fill(1));
    const b = kmsRootKeys(new Uint8Array(32).fill(1));
    expect(Buffer.from(a.k256)).toEqual(Buffer.from(b.k256));
    expect(Buffer.from(a.k256)).not.toEqual(Buffer.from(a.ca));
    expect(Buffer.from(kmsRootKeys(new Uint8Array(32).fill(2)).k256)).not.toEqual(Buffer.from(a.k256));
  });
});
