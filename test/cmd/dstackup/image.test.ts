/**
 * dstackup image pull | list | rm (in-process) against a local
 * GitHub-compatible releases API serving generated guest-image tarballs.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { normalizeVersion, pickAsset, releaseUrls } from "../../../src/core/images/release.ts";
import { runCli } from "../../helpers/cli.ts";

interface Served {
  body: Uint8Array;
  digest?: string;
}
const assets = new Map<string, Served>();
const releases = new Map<string, unknown>();
let server: ReturnType<typeof Bun.serve>;
let api = "";
let cutAfter: number | undefined; // truncate the next asset response after this many bytes
let rangeRequests = 0;

async function makeTarball(name: string, files: Record<string, string>): Promise<Uint8Array> {
  const dir = mkdtempSync(join(tmpdir(), "rel-"));
  mkdirSync(join(dir, name));
  for (const [f, c] of Object.entries(files)) writeFileSync(join(dir, name, f), c);
  // incompressible padding so the archive is big enough to interrupt
  writeFileSync(join(dir, name, "rootfs.img"), crypto.getRandomValues(new Uint8Array(60_000)));
  const out = join(dir, "out.tar.gz");
  const r = Bun.spawnSync(["tar", "-czf", out, "-C", dir, name]);
  if (r.exitCode !== 0) throw new Error(r.stderr.toString());
  return new Uint8Array(readFileSync(out));
}

const sha = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");

beforeAll(async () => {
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const u = new URL(req.url);
      if (u.pathname.startsWith("/assets/")) {
        const a = assets.get(u.pathname.slice(8));
        if (!a) return new Response("nope", { status: 404 });
        const range = req.headers.get("range");
        let body = a.body;
        let status = 200;
        if (range) {
          rangeRequests++;
          const from = Number(/bytes=(\d+)-/.exec(range)![1]);
          // as real servers do: a range starting at or past the end is unsatisfiable
          if (from >= a.body.length) return new Response(null, { status: 416, headers: { "content-range": `bytes */${a.body.length}` } });
          body = a.body.slice(from);
          status = 206;
        }
        if (cutAfter !== undefined) {
          const n = cutAfter;
          cutAfter = undefined;
          let sent = false;
          const stream = new ReadableStream({
            async pull(c) {
              if (!sent) {
                sent = true;
                c.enqueue(body.slice(0, n));
              } else {
                await Bun.sleep(30);
                c.error(new Error("simulated connection drop"));
              }
            },
          });
          return new Response(stream, { status, headers: { "content-length": String(body.length) } });
        }
        return new Response(body, { status, headers: { "content-length": String(body.length) } });
      }
      const rel = releases.get(u.pathname);
      return rel ? Response.json(rel) : new Response("{}", { status: 404 });
    },
  });
  api = `http://127.0.0.1:${server.port}/repos`;
  const meta = JSON.stringify({ kernel: "bzImage", initrd: "initramfs.cpio.gz", version: "0.6.1" });
  const good = await makeTarball("dstack-0.6.1", {
    "metadata.json": meta,
    "digest.txt": `${"ab".repeat(32)}\n`,
    bzImage: "k",
    "initramfs.cpio.gz": "i",
  });
  const nodigest = await makeTarball("dstack-0.6.2", { "metadata.json": meta, bzImage: "k", "initramfs.cpio.gz": "i" });
  assets.set("dstack-0.6.1.tar.gz", { body: good, digest: `sha256:${sha(good)}` });
  assets.set("dstack-0.6.2.tar.gz", { body: nodigest, digest: `sha256:${sha(nodigest)}` });
  assets.set("dstack-0.6.3.tar.gz", { body: good, digest: `sha256:${"0".repeat(64)}` });
  assets.set("dstack-0.6.4.tar.gz", { body: good });
  // a truncated archive published with the digest of its (truncated) bytes: the checksum passes, unpacking must not
  const truncated = good.slice(0, Math.floor(good.length / 2));
  assets.set("dstack-0.6.5.tar.gz", { body: truncated, digest: `sha256:${sha(truncated)}` });
  const base = `http://127.0.0.1:${server.port}/assets/`;
  for (const v of ["0.6.1", "0.6.2", "0.6.3", "0.6.4", "0.6.5"]) {
    const a = assets.get(`dstack-${v}.tar.gz`)!;
    releases.set(`/repos/Dstack-TEE/dstack/releases/tags/guest-os-v${v}`, {
      tag_name: `guest-os-v${v}`,
      assets: [
        { name: `dstack-dev-${v}.tar.gz`, browser_download_url: `${base}x` },
        { name: `dstack-${v}.tar.gz`, browser_download_url: `${base}dstack-${v}.tar.gz`, ...(a.digest ? { digest: a.digest } : {}) },
      ],
    });
  }
  releases.set("/repos/Dstack-TEE/dstack/releases", [releases.get("/repos/Dstack-TEE/dstack/releases/tags/guest-os-v0.6.1")]);
});
afterAll(() => server.stop(true));

describe("release lookup (pure)", () => {
  test("version URLs and asset choice follow the upstream rules", () => {
    expect(releaseUrls("  http://127.0.0.1:1234/api/  ", "0.6.0").tag).toBe(
      "http://127.0.0.1:1234/api/Dstack-TEE/dstack/releases/tags/guest-os-v0.6.0",
    );
    expect(releaseUrls("http://x", "v0.5.5").tag).toBe("http://x/Dstack-TEE/meta-dstack/releases/tags/v0.5.5");
    expect(normalizeVersion("guest-os-v0.6.0")).toBe("0.6.0");
    expect(() => normalizeVersion("latest")).toThrow(/MAJOR.MINOR.PATCH/);
    const rel = {
      tag_name: "t",
      assets: ["dstack-dev-1.tar.gz", "dstack-nvidia-1.tar.gz", "dstack-1-uki.tar.gz", "dstack-1.tar.gz"].map((name) => ({
        name,
        browser_download_url: "",
      })),
    };
    expect(pickAsset(rel, false).name).toBe("dstack-1.tar.gz");
    expect(pickAsset(rel, true).name).toBe("dstack-nvidia-1.tar.gz");
  });
});

describe("dstackup image", () => {
  const dir = mkdtempSync(join(tmpdir(), "images-"));
  const common = () => ["--image-path", dir, "--release-api-base-url", api];

  test("pull verifies the digest, adopts the image and leaves no temp files; a second pull is a no-op", async () => {
    const r = await runCli("dstackup", [
      "image",
      "pull",
      "--version",
      "0.6.1",
      "--json",
      "--image-path",
      dir,
      "--release-api-base-url",
      api,
    ]);
    expect(r.stderr).toContain("sha256 verified");
    // no TTY: progress is plain lines on stderr (no carriage returns), stdout holds only the JSON
    expect(r.stderr).toMatch(/downloading: 100% of \d/);
    expect(r.stderr).not.toContain("\r");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ name: "dstack-0.6.1", version: "0.6.1", digest: "ab".repeat(32), downloaded: true });
    expect(readdirSync(dir)).toEqual(["dstack-0.6.1"]);
    const again = await runCli("dstackup", ["image", "pull", "--version", "0.6.1", ...common()]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("already present");
  });

  test("on a TTY the download draws one progress bar, rewritten in place, ending at 100%", async () => {
    const d = mkdtempSync(join(tmpdir(), "images-"));
    const bin = join(import.meta.dir, "../../../dist/dstackup");
    // async: the release server runs in this process
    const p = Bun.spawn(
      ["script", "-qec", `${bin} image pull --version 0.6.1 --image-path ${d} --release-api-base-url ${api}`, "/dev/null"],
      {
        env: { ...process.env, NO_COLOR: "1" },
        stdout: "pipe",
        stderr: "pipe",
      },
    );
    const text = await new Response(p.stdout).text();
    expect(await p.exited).toBe(0);
    expect(text).toMatch(/\r {2}\[#{30}\] 100% /);
    expect(text).not.toContain("downloading: "); // not the plain lines
    // the next message starts on a cleared line, not after the bar
    expect(text).toMatch(/100% [^\r\n]*\r\x1b\[K {2}sha256 verified/);
    expect(readdirSync(d)).toEqual(["dstack-0.6.1"]);
  });

  test("pull with no --version takes the newest guest-os release", async () => {
    const d = mkdtempSync(join(tmpdir(), "images-"));
    const r = await runCli("dstackup", ["image", "pull", "--image-path", d, "--release-api-base-url", api]);
    expect(r.code).toBe(0);
    expect(existsSync(join(d, "dstack-0.6.1", "digest.txt"))).toBe(true);
  });

  test("an interrupted download resumes with a Range request", async () => {
    const d = mkdtempSync(join(tmpdir(), "images-"));
    cutAfter = 20_000;
    const first = await runCli("dstackup", ["image", "pull", "--version", "0.6.1", "--image-path", d, "--release-api-base-url", api]);
    expect(first.code).not.toBe(0);
    expect(readdirSync(d)).toEqual([".dstack-0.6.1.tar.gz.partial"]);
    rangeRequests = 0;
    const second = await runCli("dstackup", ["image", "pull", "--version", "0.6.1", "--image-path", d, "--release-api-base-url", api]);
    expect(second.stderr).toContain("resumed");
    expect(second.code).toBe(0);
    expect(rangeRequests).toBe(1);
    expect(readdirSync(d)).toEqual(["dstack-0.6.1"]);
  });

  test("a complete partial left by an interrupted unpack is used (HTTP 416); a stale one is downloaded again; --force starts over", async () => {
    const d = mkdtempSync(join(tmpdir(), "images-"));
    const good = assets.get("dstack-0.6.1.tar.gz")!.body;
    const partial = join(d, ".dstack-0.6.1.tar.gz.partial");
    const pull = (...extra: string[]) =>
      runCli("dstackup", ["image", "pull", "--version", "0.6.1", "--image-path", d, "--release-api-base-url", api, ...extra]);
    writeFileSync(partial, good);
    const complete = await pull();
    expect(complete.stderr).toContain("an earlier download was already complete; verifying it");
    expect(complete.code).toBe(0);
    expect(readdirSync(d)).toEqual(["dstack-0.6.1"]);
    // a partial of the right length but other bytes: the checksum fails, so it starts over once
    rmSync(join(d, "dstack-0.6.1"), { recursive: true });
    writeFileSync(partial, new Uint8Array(good.length).fill(7));
    const stale = await pull();
    expect(stale.stderr).toContain("downloading it again from the start");
    expect(stale.code).toBe(0);
    expect(readdirSync(d)).toEqual(["dstack-0.6.1"]);
    // a partial longer than the file (416, Content-Range names the real size): dropped and downloaded again
    rmSync(join(d, "dstack-0.6.1"), { recursive: true });
    writeFileSync(partial, new Uint8Array(good.length + 10).fill(9));
    const longer = await pull();
    expect(longer.stderr).toContain("sha256 verified");
    expect(longer.code).toBe(0);
    expect(readdirSync(d)).toEqual(["dstack-0.6.1"]);
    // --force drops any partial before it starts
    writeFileSync(partial, new Uint8Array(good.length + 10).fill(9));
    rangeRequests = 0;
    const forced = await pull("--force");
    expect(forced.code).toBe(0);
    expect(rangeRequests).toBe(0);
    expect(readdirSync(d)).toEqual(["dstack-0.6.1"]);
  });

  test("a tampered archive, an image without digest.txt, and a release without digests are refused; nothing adopted", async () => {
    const d = mkdtempSync(join(tmpdir(), "images-"));
    const bad = await runCli("dstackup", ["image", "pull", "--version", "0.6.3", "--image-path", d, "--release-api-base-url", api]);
    expect(bad.code).toBe(4);
    expect(bad.stderr).toContain("image checksum mismatch");
    const nod = await runCli("dstackup", ["image", "pull", "--version", "0.6.2", "--image-path", d, "--release-api-base-url", api]);
    expect(nod.code).toBe(4);
    expect(nod.stderr).toContain("no digest.txt");
    const insecure = await runCli("dstackup", ["image", "pull", "--version", "0.6.4", "--image-path", d, "--release-api-base-url", api]);
    expect(insecure.code).toBe(4);
    expect(insecure.stderr).toContain("pass --insecure");
    const truncated = await runCli("dstackup", ["image", "pull", "--version", "0.6.5", "--image-path", d, "--release-api-base-url", api]);
    expect(truncated.code).toBe(4);
    expect(truncated.stderr).toContain("failed to unpack dstack-0.6.5.tar.gz");
    expect(readdirSync(d)).toEqual([]);
    const unverified = await runCli("dstackup", [
      "image",
      "pull",
      "--version",
      "0.6.4",
      "--insecure",
      "--image-path",
      d,
      "--release-api-base-url",
      api,
    ]);
    expect(unverified.code).toBe(0);
    expect(unverified.stderr).toContain("integrity not verified (--insecure)");
    expect(readdirSync(d)).toEqual(["dstack-0.6.1"]);
    rmSync(join(d, "dstack-0.6.1"), { recursive: true });
    const missing = await runCli("dstackup", ["image", "pull", "--version", "9.9.9", "--image-path", d, "--release-api-base-url", api]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain("guest-OS version 9.9.9 was not found");
  });

  test("list shows name, version, digest, size and the pin; rm refuses the pinned image without --force", async () => {
    const prefix = mkdtempSync(join(tmpdir(), "pfx-"));
    const imgDir = join(prefix, "var/lib/dstack/images");
    const p = await runCli("dstackup", ["image", "pull", "--version", "0.6.1", "--prefix", prefix, "--release-api-base-url", api]);
    expect(p.code).toBe(0);
    mkdirSync(join(prefix, "var/lib/dstack"), { recursive: true });
    writeFileSync(
      join(prefix, "var/lib/dstack/dstackup-state.json"),
      JSON.stringify({ prefix: "x", client_url: "http://127.0.0.1:1", auth_port: 1, image: "dstack-0.6.1" }),
    );
    const l = await runCli("dstackup", ["image", "list", "--json", "--prefix", prefix]);
    const rows = JSON.parse(l.stdout);
    expect(rows).toEqual([expect.objectContaining({ name: "dstack-0.6.1", version: "0.6.1", digest: "ab".repeat(32), pinned: true })]);
    expect(rows[0].size).toBeGreaterThan(60_000);
    const table = await runCli("dstackup", ["image", "list", "--prefix", prefix]);
    expect(table.stdout).toMatch(/^NAME\s+VERSION\s+DIGEST\s+SIZE\s+PINNED\ndstack-0\.6\.1\s+0\.6\.1\s+abababab/);
    const refuse = await runCli("dstackup", ["image", "rm", "dstack-0.6.1", "--prefix", prefix]);
    expect(refuse.code).toBe(4);
    expect(existsSync(join(imgDir, "dstack-0.6.1"))).toBe(true);
    const unknown = await runCli("dstackup", ["image", "rm", "nope", "--prefix", prefix]);
    expect(unknown.code).toBe(3);
    const forced = await runCli("dstackup", ["image", "rm", "dstack-0.6.1", "--force", "--prefix", prefix]);
    expect(forced.code).toBe(0);
    expect(existsSync(join(imgDir, "dstack-0.6.1"))).toBe(false);
  });
});
