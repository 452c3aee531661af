/**
 * The cross-compiled binaries: linux-arm64 answers --version under qemu-user (Debian's
 * qemu-user-static, with the arm64 libc from libc6-arm64-cross); the macOS ones are Mach-O
 * executables of the right CPU, code-signed (ad hoc, by Bun); nothing here can run them.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { linkSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { compile } from "../../scripts/build/compile.ts";
import { findTarget } from "../../scripts/build/targets.ts";
import { ROOT, spawnCapture } from "../helpers/run.ts";

const out = mkdtempSync(join(tmpdir(), "cross-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const builds = new Map<string, Promise<string>>();
/** The binary for target id, built once; the builds are separate processes, so they run at once. */
function build(id: string): Promise<string> {
  let b = builds.get(id);
  if (!b) {
    const bin = join(out, id, "dstack");
    b = compile(ROOT, findTarget(id), bin, "cross-test").then(() => bin);
    builds.set(id, b);
  }
  return b;
}
// all three start together; each test awaits (and reports a failure of) its own
beforeAll(() => {
  for (const id of ["linux-arm64", "darwin-arm64", "darwin-x64"]) build(id).catch(() => undefined);
});

/**
 * Mach-O 64-bit header: magic MH_MAGIC_64, cputype, filetype (2 = MH_EXECUTE), and whether a
 * load command LC_CODE_SIGNATURE (0x1d) is there: arm64 macOS kills an unsigned executable.
 */
function machO(file: string): { magic: number; cpu: number; filetype: number; signed: boolean } {
  const b = readFileSync(file);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const cmds: number[] = [];
  for (let i = 0, off = 32; i < v.getUint32(16, true); i++, off += v.getUint32(off + 4, true)) cmds.push(v.getUint32(off, true));
  return { magic: v.getUint32(0, true), cpu: v.getUint32(4, true), filetype: v.getUint32(12, true), signed: cmds.includes(0x1d) };
}
const MH_MAGIC_64 = 0xfeedfacf;
const CPU_ARM64 = 0x0100000c;
const CPU_X86_64 = 0x01000007;

describe("cross-compiled targets", () => {
  test("linux-arm64 is an aarch64 ELF that answers --version under qemu-user, as every tool name", async () => {
    const bin = await build("linux-arm64");
    const elf = readFileSync(bin).subarray(0, 20);
    expect([...elf.subarray(0, 4)]).toEqual([0x7f, 0x45, 0x4c, 0x46]);
    expect(elf.readUInt16LE(18)).toBe(183); // EM_AARCH64
    const v = await spawnCapture(["qemu-aarch64-static", "-L", "/usr/aarch64-linux-gnu", bin, "--version"], { timeoutMs: 60_000 });
    expect(v.stderr).toBe("");
    expect(v.stdout).toBe(`dstack ${pkg.version} (cross-test)\n`);
    linkSync(bin, join(out, "linux-arm64", "dstackup"));
    const up = await spawnCapture(
      ["qemu-aarch64-static", "-L", "/usr/aarch64-linux-gnu", join(out, "linux-arm64", "dstackup"), "--version"],
      {
        timeoutMs: 60_000,
      },
    );
    expect(up.stdout).toStartWith(`dstackup ${pkg.version}`);
  }, 240_000);

  test("darwin-arm64 and darwin-x64 are Mach-O executables of their CPU, with a code signature", async () => {
    expect(machO(await build("darwin-arm64"))).toEqual({ magic: MH_MAGIC_64, cpu: CPU_ARM64, filetype: 2, signed: true });
    expect(machO(await build("darwin-x64"))).toEqual({ magic: MH_MAGIC_64, cpu: CPU_X86_64, filetype: 2, signed: true });
  }, 240_000);
});
