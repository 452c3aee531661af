import { afterAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ExitCode, LockTimeoutError } from "../../src/core/errors.ts";
import { acquireLock, lockPathFor, readTextIfExists, withLock, writeAtomic } from "../../src/core/fsutil.ts";

const dir = mkdtempSync(join(tmpdir(), "dstack-fsutil-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let seq = 0;
const fresh = (name = "f.json") => {
  const d = join(dir, `t${seq++}`);
  mkdirSync(d);
  return join(d, name);
};
const FIXTURES = join(import.meta.dir, "fixtures");

async function run(cmd: string[]): Promise<number> {
  return Bun.spawn(cmd, { stdout: "ignore", stderr: "ignore" }).exited;
}

describe("writeAtomic", () => {
  test("creates, replaces, leaves no temp files", () => {
    const p = fresh("x.json");
    writeAtomic(p, "one");
    expect(readFileSync(p, "utf8")).toBe("one");
    writeAtomic(p, new TextEncoder().encode("two"));
    expect(readFileSync(p, "utf8")).toBe("two");
    expect(readdirSync(join(p, ".."))).toEqual(["x.json"]);
  });
  test("new files get the asked mode whatever the umask; default 0644", () => {
    const old = process.umask(0o077);
    try {
      const a = fresh();
      writeAtomic(a, "x");
      expect(statSync(a).mode & 0o777).toBe(0o644);
      const b = fresh();
      writeAtomic(b, "x", { mode: 0o600 });
      expect(statSync(b).mode & 0o777).toBe(0o600);
    } finally {
      process.umask(old);
    }
  });
  test("replacing keeps the existing mode (0600 stays 0600) unless forceMode", () => {
    const p = fresh();
    writeFileSync(p, "secret");
    chmodSync(p, 0o600);
    writeAtomic(p, "new");
    expect(statSync(p).mode & 0o777).toBe(0o600);
    writeAtomic(p, "newer", { mode: 0o644 });
    expect(statSync(p).mode & 0o777).toBe(0o600);
    writeAtomic(p, "forced", { mode: 0o640, forceMode: true });
    expect(statSync(p).mode & 0o777).toBe(0o640);
  });
  test.skipIf(process.getuid?.() !== 0)("replacing keeps the existing owner (as root)", () => {
    const p = fresh();
    writeFileSync(p, "x");
    chownSync(p, 65534, 65534);
    writeAtomic(p, "y");
    const st = statSync(p);
    expect([st.uid, st.gid]).toEqual([65534, 65534]);
  });
  test("a failed write removes its temp file and leaves the target alone", () => {
    const p = fresh("d");
    mkdirSync(p); // rename of a file over a directory fails
    expect(() => writeAtomic(p, "x")).toThrow();
    expect(readdirSync(join(p, ".."))).toEqual(["d"]);
  });
  test("creates missing parent directories; readTextIfExists", () => {
    const p = join(fresh(), "..", "a", "b", "c.txt");
    expect(readTextIfExists(p)).toBeUndefined();
    writeAtomic(p, "deep");
    expect(readTextIfExists(p)).toBe("deep");
  });
});

describe("withLock", () => {
  test("interlocks with flock(1): flock(1) holds → we time out (75, naming the lock file), then get it", async () => {
    const p = fresh();
    const holder = Bun.spawn(["flock", lockPathFor(p), "sh", "-c", "echo held; sleep 0.7"], { stdout: "pipe" });
    const reader = holder.stdout.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain("held");
    const err = await withLock(p, () => "no", { timeoutMs: 100 }).catch((e) => e);
    expect(err).toBeInstanceOf(LockTimeoutError);
    expect(err.exitCode).toBe(ExitCode.lockTimeout);
    expect(err.exitCode).toBe(75);
    expect(err.message).toContain(`${p}.lock`);
    expect(err.hint).toContain(`${p}.lock`);
    const t0 = performance.now();
    const got = await withLock(p, () => "yes", { timeoutMs: 10_000 });
    expect(got).toBe("yes");
    expect(await holder.exited).toBe(0); // we only got it once flock(1) had let go
    expect(performance.now() - t0).toBeGreaterThan(200);
  });
  test("interlocks with flock(1): we hold → flock -n fails; after release it succeeds", async () => {
    const p = fresh();
    const release = await acquireLock(p);
    expect(await run(["flock", "-n", lockPathFor(p), "true"])).toBe(1);
    expect(await run(["flock", "-w", "0.2", lockPathFor(p), "true"])).toBe(1);
    release();
    release(); // idempotent
    expect(await run(["flock", "-n", lockPathFor(p), "true"])).toBe(0);
  });
  test("the lock fd is close-on-exec: a child spawned while holding it does not inherit it", async () => {
    const p = fresh();
    const lock = lockPathFor(p);
    const release = await acquireLock(p);
    const fds = readdirSync("/proc/self/fd").filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === lock;
      } catch {
        return false;
      }
    });
    expect(fds).toHaveLength(1);
    const flags = parseInt(/flags:\s*([0-7]+)/.exec(readFileSync(`/proc/self/fdinfo/${fds[0]}`, "utf8"))![1]!, 8);
    expect(flags & 0o2000000).toBe(0o2000000); // O_CLOEXEC
    const child = Bun.spawn(["sleep", "5"], { stdout: "ignore" });
    try {
      const childFds = readdirSync(`/proc/${child.pid}/fd`).map((fd) => {
        try {
          return readlinkSync(`/proc/${child.pid}/fd/${fd}`);
        } catch {
          return "";
        }
      });
      expect(childFds).not.toContain(lock);
      release();
      expect(await run(["flock", "-n", lock, "true"])).toBe(0); // the child holds nothing
    } finally {
      child.kill();
      await child.exited;
    }
  });
  test("the lock is released when fn throws; the lock file stays", async () => {
    const p = fresh();
    await expect(
      withLock(p, () => {
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(await withLock(p, async () => 7, { timeoutMs: 0 })).toBe(7);
    expect(readdirSync(join(p, ".."))).toContain("f.json.lock");
  });
  test.skipIf(process.getuid?.() !== 0 || !Bun.which("setpriv"))(
    "a lock file another user owns (0644, read-only for us) still locks, and interlocks",
    async () => {
      const d = mkdtempSync(join(tmpdir(), "dstack-lockro-"));
      try {
        chmodSync(d, 0o755);
        const p = join(d, "allow.json");
        writeFileSync(lockPathFor(p), "");
        chmodSync(lockPathFor(p), 0o644); // root's file: user nobody can only read it
        const code = `const m = await import(${JSON.stringify(join(import.meta.dir, "../../src/core/fsutil.ts"))});
          await m.withLock(${JSON.stringify(p)}, async () => { console.log("held"); await Bun.sleep(400); }, { timeoutMs: 2000 });`;
        const child = Bun.spawn(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, "-e", code], {
          stdout: "pipe",
          stderr: "pipe",
        });
        const first = await child.stdout.getReader().read();
        expect(new TextDecoder().decode(first.value)).toContain("held");
        expect(await run(["flock", "-n", lockPathFor(p), "true"])).toBe(1); // nobody's read-only fd holds it
        expect(await child.exited).toBe(0);
      } finally {
        rmSync(d, { recursive: true, force: true });
      }
    },
  );
});

describe("crash safety and concurrency (processes)", () => {
  test("a writer killed with SIGKILL at random points, 200 times, never leaves a torn or empty file", async () => {
    const { payload } = await import("./fixtures/atomic-writer.ts");
    const seen = new Set<number>();
    // four files, each with its writers one after another (50 each): the kills of one lane overlap another's process start
    const lane = async (l: number) => {
      let rnd = 12345 + l;
      const rand = () => {
        rnd = (rnd * 1103515245 + 12345) & 0x7fffffff;
        return rnd / 0x7fffffff;
      };
      const p = fresh(`state-${l}.json`);
      writeAtomic(p, payload(0));
      for (let k = 0; k < 50; k++) {
        const i = l * 50 + k;
        const w = Bun.spawn([process.execPath, join(FIXTURES, "atomic-writer.ts"), p, String((i + 1) * 1_000_000)], {
          stdout: "pipe",
          stderr: "ignore",
        });
        // wait until it runs (a loaded machine can take longer to start it than any fixed sleep), then kill it mid-loop
        await w.stdout.getReader().read();
        await Bun.sleep(Math.floor(rand() * 40));
        w.kill("SIGKILL");
        await w.exited;
        const text = readFileSync(p, "utf8");
        expect(text.length).toBeGreaterThan(0);
        const doc = JSON.parse(text) as { n: number; size: number; pad: string };
        expect(text).toBe(payload(doc.n)); // exactly one complete version
        seen.add(doc.n);
      }
    };
    await Promise.all([0, 1, 2, 3].map(lane));
    // every writer ran before it was killed: a new version was seen nearly every time
    expect(seen.size).toBeGreaterThan(150);
  }, 180_000); // 200 process starts: a loaded 2-core machine needs minutes

  test("50 processes each adding one entry under the lock end with all 50 entries", async () => {
    const p = fresh("list.json");
    writeAtomic(p, "[]");
    const procs = Array.from({ length: 50 }, (_, i) =>
      Bun.spawn([process.execPath, join(FIXTURES, "lock-append.ts"), p, `w${i}`], { stdout: "ignore", stderr: "pipe" }),
    );
    const codes = await Promise.all(procs.map((x) => x.exited));
    expect(codes.every((c) => c === 0)).toBe(true);
    const list = JSON.parse(readFileSync(p, "utf8")) as string[];
    expect(list).toHaveLength(50);
    expect(new Set(list)).toEqual(new Set(Array.from({ length: 50 }, (_, i) => `w${i}`)));
    expect(readdirSync(join(p, "..")).sort()).toEqual(["list.json", "list.json.lock"]);
  }, 60_000);
});
