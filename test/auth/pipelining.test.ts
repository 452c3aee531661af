/**
 * Issue 14, item 13: HTTP/1.1 pipelining. Every request sent back to back on
 * one connection gets its answer, in order, on that connection (the choice
 * documented in the README); the connection stays open. Tested with a raw
 * socket against the compiled binary, which is where Bun used to drop the
 * connection without an answer when a decision waited for a later
 * event-loop turn.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serveBinary } from "./serve-binary.ts";

const A = "aa".repeat(20);
const H = "11".repeat(32);

function post(path: string, body: string): string {
  return `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/** Split a byte stream of HTTP/1.1 responses (each with a content-length) into status and body. */
function responses(raw: string): { status: number; body: string }[] {
  const out: { status: number; body: string }[] = [];
  let rest = raw;
  for (;;) {
    const end = rest.indexOf("\r\n\r\n");
    if (end < 0) return out;
    const head = rest.slice(0, end);
    const len = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? NaN);
    if (Number.isNaN(len) || rest.length < end + 4 + len) return out;
    out.push({ status: Number(head.split(" ")[1]), body: rest.slice(end + 4, end + 4 + len) });
    rest = rest.slice(end + 4 + len);
  }
}

/** Write `data` in one go on a fresh connection; collect until `want` responses arrived, the peer closed, or 3 s passed. */
async function exchange(port: number, data: string, want: number) {
  let got = "";
  let closed = false;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 3000);
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open: (s) => void s.write(data),
        data: (s, d) => {
          got += d.toString();
          if (responses(got).length >= want) {
            clearTimeout(timer);
            s.end();
            resolve();
          }
        },
        close: () => {
          closed = true;
          clearTimeout(timer);
          resolve();
        },
        error: () => resolve(),
      },
    });
  });
  return { answers: responses(got), closedByPeer: closed && responses(got).length < want };
}

describe("pipelined requests on one connection", () => {
  test("three decisions and a GET / sent back to back: four answers, in order", async () => {
    const dir = mkdtempSync(join(tmpdir(), "al-pipe-"));
    const path = join(dir, "allow.json");
    writeFileSync(path, JSON.stringify({ apps: { [A]: { composeHashes: [H], allowAnyDevice: true } } }));
    const { p, port } = await serveBinary(path);
    try {
      const reqs = [
        post("/bootAuth/app", JSON.stringify({ appId: A, composeHash: H })),
        post("/bootAuth/app", JSON.stringify({ appId: "bb".repeat(20), composeHash: H })),
        post("/bootAuth/kms", JSON.stringify({ mrAggregated: "cc" })),
        "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
      ];
      const { answers, closedByPeer } = await exchange(port, reqs.join(""), 4);
      expect(closedByPeer).toBe(false);
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
      expect(answers.map((a) => JSON.parse(a.body).reason ?? JSON.parse(a.body).status)).toEqual([
        "ok",
        "app not registered",
        "kms mrAggregated not allowed",
        "ok",
      ]);
      // many at once, too
      const many = await exchange(port, post("/bootAuth/app", JSON.stringify({ appId: A, composeHash: H })).repeat(50), 50);
      expect(many.answers).toHaveLength(50);
      expect(many.answers.every((a) => JSON.parse(a.body).isAllowed === true)).toBe(true);
    } finally {
      p.kill("SIGKILL");
    }
  }, 20_000);
});
