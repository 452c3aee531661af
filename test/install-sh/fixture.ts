/**
 * install.sh's test bench: a throwaway signing key made at test time, stand-in releases
 * (a shell script answering --version like our binary, packed in every target's tarballs,
 * with a signed SHA256SUMS), a release server in GitHub's layout, and install.sh run
 * under dash with a chosen PATH (stand-in `uname`, no `xz`, no `ssh-keygen`…).
 */
import { afterAll, beforeAll } from "bun:test";
import { chmodSync, copyFileSync, linkSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { RELEASE_NAMESPACE } from "../../src/core/signing-key.ts";
import { signFile } from "../../src/host/signature.ts";
import { ROOT, spawnCapture } from "../helpers/run.ts";

export const VERSION = pkg.version;
export const PATHS = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

const made: string[] = [];
/** A temp dir removed by cleanup(). */
export function tmp(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}
export function cleanup(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

export const sha256 = (b: Uint8Array | string): string => new Bun.CryptoHasher("sha256").update(b).digest("hex");

/** A fresh ed25519 key pair: { key (private file), pub (file), text (the public line) }. */
export function throwawayKey(name = "test"): { key: string; pub: string; text: string } {
  const d = tmp("key-");
  const key = join(d, name);
  const r = Bun.spawnSync(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", `${name}@test`, "-f", key]);
  if (r.exitCode !== 0) throw new Error(`ssh-keygen failed: ${r.stderr.toString()}`);
  return { key, pub: `${key}.pub`, text: readFileSync(`${key}.pub`, "utf8") };
}

/** The stand-in binary: answers --version under every tool name, as ours does. */
export const standIn = (tag: string) => `#!/bin/sh\necho "$(basename "$0") ${VERSION} (${tag})"\n`;

const TARGETS: [string, string[]][] = [
  ["linux-x64", ["gz", "xz"]],
  ["linux-arm64", ["gz", "xz"]],
  ["darwin-arm64", ["xz"]],
  ["darwin-x64", ["xz"]],
];

/**
 * A release directory: for each target, tarballs of a stand-in whose --version names the
 * target (so a test sees which asset was installed), SHA256SUMS and, when signed, SHA256SUMS.sig.
 */
export async function standInRelease(signWith?: string): Promise<string> {
  const dir = tmp("release-");
  const lines: string[] = [];
  for (const [target, formats] of TARGETS) {
    const stage = tmp("stage-");
    writeFileSync(join(stage, "dstack"), standIn(target));
    chmodSync(join(stage, "dstack"), 0o755);
    const names = ["dstack"];
    if (target.startsWith("linux")) names.push("dstackup", "dstack-auth");
    for (const n of names.slice(1)) linkSync(join(stage, "dstack"), join(stage, n));
    const stem = `dstack-${VERSION}-${target}`;
    lines.push(`${sha256(standIn(target))}  ${stem}/dstack`);
    for (const f of formats) {
      const out = join(dir, `${stem}.tar.${f}`);
      const r = Bun.spawnSync(["tar", "-C", stage, f === "gz" ? "-czf" : "-cJf", out, ...names]);
      if (r.exitCode !== 0) throw new Error(r.stderr.toString());
      lines.push(`${sha256(await Bun.file(out).bytes())}  ${stem}.tar.${f}`);
    }
  }
  writeFileSync(join(dir, "SHA256SUMS"), `${lines.join("\n")}\n`);
  if (signWith) await signFile(join(dir, "SHA256SUMS"), signWith, RELEASE_NAMESPACE);
  return dir;
}

/** A release server in GitHub's layout over a directory; records the paths asked for. */
export function releaseServer(dirFor: () => string) {
  const requests: string[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const path = new URL(req.url).pathname;
      requests.push(path);
      // GitHub's shapes: /latest/download/ASSET and /download/vVERSION/ASSET
      const m = /^\/(?:latest\/download|download\/v([\w.-]+))\/([^/]+)$/.exec(path);
      if (!m || (m[1] !== undefined && m[1] !== VERSION)) return new Response("not found", { status: 404 });
      const f = Bun.file(join(dirFor(), m[2]!));
      return (await f.exists()) ? new Response(f) : new Response("not found", { status: 404 });
    },
  });
  return { requests, url: `http://127.0.0.1:${server.port}`, stop: () => server.stop(true) };
}

/** A PATH directory holding every /usr/bin and /bin tool except those named, plus stand-ins. */
export function pathWithout(drop: string[], extra: Record<string, string> = {}): string {
  const shim = tmp("path-");
  for (const d of ["/usr/bin", "/bin"]) {
    for (const e of readdirSync(d)) {
      if (drop.includes(e)) continue;
      try {
        symlinkSync(join(d, e), join(shim, e));
      } catch {
        // already linked from the other directory
      }
    }
  }
  for (const [name, body] of Object.entries(extra)) {
    rmSync(join(shim, name), { force: true });
    writeFileSync(join(shim, name), body, { mode: 0o755 });
  }
  return shim;
}

/** A `uname` answering -s and -m as another machine would. */
export const fakeUname = (s: string, m: string) => `#!/bin/sh\ncase "$1" in -s) echo ${s} ;; -m) echo ${m} ;; *) echo ${s} ;; esac\n`;

export function runInstall(args: string[], env: Record<string, string>) {
  return spawnCapture(["dash", join(ROOT, "install.sh"), ...args], { env: { PATH: PATHS, ...env } });
}

export function copyRelease(src: string): string {
  const d = tmp("release-copy-");
  for (const e of readdirSync(src)) copyFileSync(join(src, e), join(d, e));
  return d;
}

export interface ServedRelease {
  /** the release server: its URL and the paths asked for */
  srv: ReturnType<typeof releaseServer>;
  /** the throwaway key the stand-in release is signed with */
  signer(): ReturnType<typeof throwawayKey>;
  /** the signed stand-in release */
  standIn(): string;
  /** serve another directory instead (a copy with a bad signature, …) */
  serve(dir: string): void;
  /** install.sh with args against the server, trusting the signer's key, with env added */
  sh(args: string[], env?: Record<string, string>): ReturnType<typeof runInstall>;
}

/** For a test file: a signed stand-in release, served in GitHub's layout (made in beforeAll, all removed after). */
export function servedStandInRelease(keyName?: string): ServedRelease {
  let signer: ReturnType<typeof throwawayKey> | undefined;
  let made = "";
  let serving = "";
  const srv = releaseServer(() => serving);
  beforeAll(async () => {
    signer = throwawayKey(keyName);
    made = await standInRelease(signer.key);
    serving = made;
  });
  afterAll(() => {
    srv.stop();
    cleanup();
  });
  return {
    srv,
    signer: () => signer!,
    standIn: () => made,
    serve: (dir) => {
      serving = dir;
    },
    sh: (args, env = {}) => runInstall(args, { DSTACK_RELEASE_URL: srv.url, DSTACK_TRUSTED_KEY: signer!.pub, ...env }),
  };
}
