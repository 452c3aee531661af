import { describe, expect, test } from "bun:test";
import { progressLine } from "../../src/client/progress-line.ts";
import { captureIo } from "../helpers/cli.ts";

describe("progressLine", () => {
  test("without a terminal: one plain line each", () => {
    const io = captureIo();
    const p = progressLine(io, false);
    p.line("created VM x");
    p.line("web: booting");
    p.done();
    expect(io.err).toBe("  created VM x\n  web: booting\n");
  });
  test("on a terminal: one spinner line rewritten in place, ended by done", async () => {
    const io = captureIo({ tty: true });
    const p = progressLine(io, false);
    p.line("created VM x");
    p.line("web: booting");
    await Bun.sleep(250); // the spinner turns meanwhile
    p.done();
    expect(io.err.startsWith("\r\x1b[K⠋ created VM x\r\x1b[K⠙ web: booting")).toBe(true);
    expect(io.err.match(/\r\x1b\[K. web: booting/g)!.length).toBeGreaterThan(2);
    expect(io.err.endsWith("\r\x1b[K  web: booting\n")).toBe(true);
    expect(io.out).toBe("");
  });
  test("quiet: nothing", () => {
    const io = captureIo({ tty: true });
    const p = progressLine(io, true);
    p.line("created VM x");
    p.done();
    expect(io.err).toBe("");
  });
});
