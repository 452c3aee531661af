/**
 * dstack-auth serve --log-file (issue 13 item 9: the decision log of a detached install grew
 * without bound): the compiled binary, its stderr on the same file as a detached install has it,
 * written far past a small cap: rotated into FILE.1 … FILE.keep, each at most the cap, every line
 * whole, the newest decisions kept in order up to the "stopped" line.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBin } from "../helpers/run.ts";
import { serveBinary } from "./serve-binary.ts";

const procs: ReturnType<typeof Bun.spawn>[] = [];
afterAll(() => {
  for (const p of procs) p.kill("SIGKILL");
});

const hex = (n: number, len: number) => n.toString(16).padStart(len, "0");

describe("dstack-auth serve --log-file", () => {
  for (const fmt of ["text", "json"]) {
    test(`${fmt}: written past the cap, the log rotates; sizes within the cap, whole lines, nothing lost of what is kept`, async () => {
      const dir = mkdtempSync(join(tmpdir(), "auth-log-"));
      const allow = join(dir, "allow.json");
      writeFileSync(allow, JSON.stringify({ osImages: [], apps: {} }));
      const log = join(dir, "auth.log");
      const fd = openSync(log, "a", 0o640); // as startDaemon: the daemon's stderr appends to the same file
      const cap = 4096;
      const { p, port } = await serveBinary(allow, {
        args: ["--log-file", log, "--log-max-size", "4K", "--log-keep", "2", "--log-format", fmt],
        stderr: fd,
      });
      closeSync(fd);
      procs.push(p);
      const post = (i: number) =>
        fetch(`http://127.0.0.1:${port}/bootAuth/app`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ appId: hex(i, 40), composeHash: hex(i, 64) }),
        }).then((r) => r.json());
      // in bursts of 1 to 30 concurrent requests, so that batches of many lines meet the cap
      let n = 0;
      for (let b = 0; b < 30; b++) await Promise.all(Array.from({ length: 1 + ((b * 7) % 30) }, () => post(n++)));
      p.kill("SIGTERM");
      expect(await p.exited).toBe(0);
      expect(readdirSync(dir).sort()).toEqual(["allow.json", "auth.log", "auth.log.1", "auth.log.2"]);
      const files = [`${log}.2`, `${log}.1`, log];
      for (const f of files) expect(statSync(f).size).toBeLessThanOrEqual(cap);
      const text = files.map((f) => readFileSync(f, "utf8"));
      for (const t of text) expect(t.endsWith("\n")).toBe(true);
      const lines = text.join("").slice(0, -1).split("\n");
      const parsed = lines.map((l) =>
        fmt === "json"
          ? (JSON.parse(l) as { event: string; appId?: string })
          : { event: / app /.test(l) ? "decision" : l, appId: / app=(\S+)/.exec(l)?.[1] },
      );
      expect(parsed.at(-1)!.event).toMatch(/stopped/);
      const apps = parsed.filter((l) => l.event === "decision").map((l) => Number.parseInt(l.appId!, 16));
      // each kept request once; those answered before the newest ones rotated out are gone
      expect(apps.length).toBeGreaterThan(20);
      expect(new Set(apps).size).toBe(apps.length);
      expect(Math.max(...apps)).toBe(n - 1);
      // every line whole: a decision, or one of the start and stop lines
      const whole =
        fmt === "text"
          ? /^\S+Z (app app=[0-9a-f]{40} compose=[0-9a-f]{64} allowed=false reason="[^"]*"|allowlist \S+ loaded: .*|dstack-auth (listening on|stopped).*)$/
          : /^\{"time":"[^"]+Z","event":"(decision|allowlist|listening|stopped)".*\}$/;
      for (const l of lines) expect(l).toMatch(whole);
    }, 60_000);
  }

  test("bad cap flags are usage errors; an unwritable log file exits 1 naming it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "auth-log-"));
    const allow = join(dir, "allow.json");
    writeFileSync(allow, JSON.stringify({ osImages: [], apps: {} }));
    const small = await runBin("dstack-auth", ["--config", allow, "--port", "0", "--log-file", join(dir, "l"), "--log-max-size", "100"]);
    expect(small.code).toBe(2);
    expect(small.stderr).toContain("--log-max-size must be at least 4K");
    const keep = await runBin("dstack-auth", ["--config", allow, "--port", "0", "--log-file", join(dir, "l"), "--log-keep", "0"]);
    expect(keep.code).toBe(2);
    expect(keep.stderr).toContain("--log-keep must be between 1 and 100");
    const none = await runBin("dstack-auth", ["--config", allow, "--port", "0", "--log-file", join(dir, "no/such/dir/l")]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`cannot open the log file ${join(dir, "no/such/dir/l")}: ENOENT`);
    expect(existsSync(join(dir, "l"))).toBe(false);
  });
});
