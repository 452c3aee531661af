/**
 * Issue 14, item 11: an allowlist path that is not a regular file (a symlink
 * to /dev/zero or /dev/urandom, a FIFO, a directory) or is over the size cap
 * is refused at once with a reason: the webhook denies while it keeps
 * answering (GET / included), `check` and `decide` do not hang, and a writer
 * refuses to touch it. The compiled binary and writers run in their own
 * processes, so a hang is a timeout here, not a stuck test runner.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAX_ALLOWLIST_BYTES, readAllowlistText } from "../../src/auth/allowlist-read.ts";
import { runBin, spawnCapture } from "../helpers/run.ts";
import { serveBinary } from "./serve-binary.ts";

const A = "aa".repeat(20);
const H = "11".repeat(32);
const GOOD = JSON.stringify({ apps: { [A]: { composeHashes: [H], allowAnyDevice: true } } });
const body = JSON.stringify({ appId: A, composeHash: H });

const dir = mkdtempSync(join(tmpdir(), "al-hostile-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Each hostile kind, made at `path`. */
const kinds: [string, (path: string) => void, string][] = [
  ["a symlink to /dev/zero", (p) => symlinkSync("/dev/zero", p), "is a character device, not a regular file"],
  ["a symlink to /dev/urandom", (p) => symlinkSync("/dev/urandom", p), "is a character device, not a regular file"],
  ["a FIFO", (p) => Bun.spawnSync(["mkfifo", p]), "is a FIFO (named pipe), not a regular file"],
  ["a directory", (p) => mkdirSync(p), "is a directory, not a regular file"],
  [
    "a sparse file over the cap",
    (p) => {
      writeFileSync(p, "");
      truncateSync(p, MAX_ALLOWLIST_BYTES + 1);
    },
    `is ${MAX_ALLOWLIST_BYTES + 1} bytes, over the ${MAX_ALLOWLIST_BYTES}-byte limit`,
  ],
];

describe("readAllowlistText", () => {
  test.each(kinds)("%s is refused at once with its kind", (_, make, words) => {
    const p = join(mkdtempSync(join(dir, "r-")), "allow.json");
    make(p);
    const t0 = performance.now();
    expect(() => readAllowlistText(p)).toThrow(words);
    expect(performance.now() - t0).toBeLessThan(500);
  });

  test("a regular file under the cap is read whole; a missing one is ENOENT", () => {
    const p = join(dir, "ok.json");
    writeFileSync(p, GOOD);
    expect(readAllowlistText(p)).toBe(GOOD);
    expect(readAllowlistText(p, GOOD.length)).toBe(GOOD);
    expect(() => readAllowlistText(p, GOOD.length - 1)).toThrow("over the");
    expect(() => readAllowlistText(join(dir, "nope.json"))).toThrow("does not exist");
  });
});

describe("the webhook (compiled) with a hostile allowlist swapped in", () => {
  test("each kind: denied at once with the reason, GET / still answers, and a good file allows again", async () => {
    const path = join(dir, "served.json");
    writeFileSync(path, GOOD);
    const { p, url } = await serveBinary(path);
    const post = async () => {
      const r = await fetch(`${url}/bootAuth/app`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        signal: AbortSignal.timeout(3000),
      });
      return (await r.json()) as { isAllowed: boolean; reason: string };
    };
    try {
      expect((await post()).isAllowed).toBe(true);
      for (const [, make, words] of kinds) {
        const aside = join(dir, `hostile-${Math.random().toString(16).slice(2)}`);
        make(aside);
        rmSync(path); // a directory cannot be renamed over a file
        renameSync(aside, path);
        const d = await post();
        expect(d).toEqual({ isAllowed: false, gatewayAppId: "", reason: `allowlist unavailable: ${path} ${words}` } as never);
        const info = await fetch(`${url}/`, { signal: AbortSignal.timeout(3000) });
        expect(info.status).toBe(200);
        rmSync(path, { recursive: true, force: true });
        writeFileSync(path, GOOD);
        expect((await post()).isAllowed).toBe(true);
      }
      expect(p.exitCode).toBeNull();
    } finally {
      p.kill("SIGKILL");
    }
  }, 30_000);

  test("started on a FIFO: it serves, denying with the reason", async () => {
    const path = join(dir, "fifo-at-start.json");
    Bun.spawnSync(["mkfifo", path]);
    const { p, url } = await serveBinary(path);
    try {
      const r = await fetch(`${url}/bootAuth/app`, { method: "POST", body, signal: AbortSignal.timeout(3000) });
      expect(((await r.json()) as { reason: string }).reason).toContain("is a FIFO (named pipe), not a regular file");
    } finally {
      p.kill("SIGKILL");
    }
  }, 20_000);
});

describe("check, decide and writers do not hang on it", () => {
  test.each(kinds)(
    "%s: check exits 4 with the reason, decide denies, a registration refuses",
    async (_, make, words) => {
      const path = join(mkdtempSync(join(dir, "c-")), "allow.json");
      make(path);
      const chk = await runBin("dstack-auth", ["check", "--config", path], { timeoutMs: 5000 });
      expect(chk.code).toBe(4);
      expect(chk.stderr).toContain(words);
      const dec = await runBin("dstack-auth", ["decide", "--config", path], { stdin: body, timeoutMs: 5000 });
      expect(dec.code).toBe(1);
      expect(JSON.parse(dec.stdout).reason).toContain(words);
      const mod = join(import.meta.dir, "../../src/auth/allowlist-file.ts");
      const reg = await spawnCapture(
        [
          process.execPath,
          "-e",
          `import { registerAppHash } from ${JSON.stringify(mod)}; await registerAppHash(${JSON.stringify(path)}, "${A}", "${H}");`,
        ],
        { timeoutMs: 5000 },
      );
      expect(reg.code).toBe(1);
      expect(reg.stderr).toContain(words);
    },
    20_000,
  );
});
