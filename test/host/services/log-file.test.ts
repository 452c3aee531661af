/** The detached daemons' log file, capped and rotated (issue 13 item 9): sizes, generations, whole lines, the live inode kept. */
import { describe, expect, test } from "bun:test";
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generationOf, LogFile } from "../../../src/host/services/log-file.ts";
import { spawnCapture } from "../../helpers/run.ts";

const fresh = () => join(mkdtempSync(join(tmpdir(), "log-file-")), "d.log");
const notice = (n: number, why: string) => `lost ${n} line(s): ${why}\n`;
/** line i: its number and a varying length, so that batches end anywhere near the cap */
const line = (i: number) => `${String(i).padStart(6, "0")} ${"é".repeat(i % 7)}${"x".repeat(20 + ((i * 37) % 150))}\n`;

/** The files oldest first: PATH.keep … PATH.1, PATH. */
function generations(path: string, keep: number): string[] {
  const all = [];
  for (let k = keep; k >= 1; k--) if (existsSync(generationOf(path, k))) all.push(readFileSync(generationOf(path, k), "utf8"));
  return [...all, readFileSync(path, "utf8")];
}

describe("LogFile", () => {
  test("written far past the cap: rotated into PATH.1 … PATH.keep, each at most the cap, every line whole, the newest lines all kept in order", async () => {
    const path = fresh();
    const cap = { maxBytes: 4096, keep: 3 };
    const log = new LogFile(path, cap, notice);
    let n = 0;
    // batches of 1 to 40 lines, with the event loop turning between some of them (rotations finish then)
    for (let b = 0; b < 400; b++) {
      let batch = "";
      for (let j = 0; j <= b % 40; j++) batch += line(n++);
      log.write(batch);
      if (b % 3 === 0) await Bun.sleep(0);
    }
    await log.close();
    const dir = join(path, "..");
    expect(readdirSync(dir).sort()).toEqual(["d.log", "d.log.1", "d.log.2", "d.log.3"]); // no PATH.4, no temp file
    for (const f of readdirSync(dir)) expect(statSync(join(dir, f)).size).toBeLessThanOrEqual(cap.maxBytes);
    for (const f of readdirSync(dir)) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o640);
    const files = generations(path, cap.keep);
    for (const text of files.slice(0, -1)) expect(Buffer.byteLength(text)).toBeGreaterThan(cap.maxBytes - 400); // full generations, not slivers
    const kept = files.join("");
    expect(kept.endsWith("\n")).toBe(true);
    const lines = kept.slice(0, -1).split("\n");
    // whole lines, consecutive, ending with the last one written
    for (const [i, l] of lines.entries()) expect(`${l}\n`).toBe(line(n - lines.length + i));
    expect(lines.length).toBeGreaterThan(50);
  });

  test("a line longer than the cap is kept whole, in a file of its own", async () => {
    const path = fresh();
    const log = new LogFile(path, { maxBytes: 4096, keep: 2 }, notice);
    const long = `${"L".repeat(6000)}\n`;
    log.write("a\n");
    log.write(`${long}b\n`);
    await log.close();
    expect(generations(path, 2)).toEqual(["a\n", long, "b\n"]);
  });

  test("the live file keeps its inode: another writer of it (the daemon's stderr) goes on into the live file", async () => {
    const path = fresh();
    writeFileSync(path, "");
    const ino = statSync(path).ino;
    const log = new LogFile(path, { maxBytes: 4096, keep: 2 }, notice);
    for (let i = 0; i < 100; i++) log.write(line(i));
    await log.close();
    expect(existsSync(generationOf(path, 1))).toBe(true);
    expect(statSync(path).ino).toBe(ino);
    appendFileSync(path, "crash trace\n"); // as the daemon's inherited stderr, O_APPEND on the same file
    expect(readFileSync(path, "utf8").endsWith(`${line(99)}crash trace\n`)).toBe(true);
  });

  test("an existing file counts toward the cap; lines appended after a restart rotate it", async () => {
    const path = fresh();
    writeFileSync(path, `${"x".repeat(4060)}\n`);
    const log = new LogFile(path, { maxBytes: 4096, keep: 1 }, notice);
    log.write(line(1));
    await log.close();
    expect(generations(path, 1)).toEqual([`${"x".repeat(4060)}\n`, line(1)]);
  });

  test("a write that hits a full disk (file size limit) is undone to the last whole line; the next that fits says how many were lost", async () => {
    const path = fresh();
    const r = await spawnCapture(["prlimit", "--fsize=8192", process.execPath, join(import.meta.dir, "full-disk-worker.ts"), path]);
    expect(r.code).toBe(0);
    expect(readFileSync(path, "utf8")).toBe(`lost 9 line(s): EFBIG\nline 91 ${"x".repeat(90)}\n`);
  });
});
