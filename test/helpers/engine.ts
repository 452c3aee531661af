/**
 * The container engine for the runtime tests: the one DOCKER_HOST (or the default socket)
 * points at, probed as `dstackup install --simulate --runtime auto` would. In .ci/run
 * (DSTACK_REQUIRE_ENGINE=1) a missing engine is a failure; elsewhere the tests skip and say why.
 * The test image `local/httpd` is a busybox-static rootfs imported with `docker import`
 * (no registry needed): busybox `httpd -f -p 80 -h /www` serving /www/index.html.
 */
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { SimRuntime } from "../../src/core/specs/sim-runtime.ts";
import { runTool } from "../../src/host/runner.ts";
import { detectRuntime, engineEnv } from "../../src/sim/runtime/engine.ts";

export const HTTPD_IMAGE = "local/httpd:test";
export const INDEX_HTML = "hello from the httpd container\n";
export const BUSYBOX_ALL_IMAGE = "local/busybox-all:dstack-test";

export interface TestEngine {
  rt: SimRuntime;
  /** run the engine's client (argv after `docker`) */
  docker(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
}

let cached: Promise<TestEngine | string> | undefined;

async function probe(): Promise<TestEngine | string> {
  const d = await detectRuntime("docker", process.env);
  if (d.runtime.engine === "none") return d.error ?? "no engine";
  const rt = d.runtime;
  return { rt, docker: (...args) => runTool([rt.client, ...args], { env: engineEnv(rt), path: engineEnv(rt).PATH, timeoutMs: 120_000 }) };
}

/** The engine, or why there is none (then the caller skips, unless DSTACK_REQUIRE_ENGINE=1 makes it throw). */
export async function testEngine(): Promise<TestEngine | undefined> {
  cached ??= probe();
  const e = await cached;
  if (typeof e !== "string") return e;
  if (process.env.DSTACK_REQUIRE_ENGINE === "1") throw new Error(`DSTACK_REQUIRE_ENGINE=1 but no container engine answers: ${e}`);
  console.warn(`skipping the container runtime tests: ${e} (start a dockerd and set DOCKER_HOST to run them)`);
  return undefined;
}

export interface BusyboxImage {
  /** the applets linked in /bin, or every applet busybox has */
  applets: string[] | "all";
  /** files of the rootfs (path → contents) */
  files?: Record<string, string>;
  /** `docker import --change` instructions (CMD, ENV) */
  changes: string[];
}

/** Import a busybox-static rootfs as `tag`, once per engine (a second call finds it); no registry needed. */
export async function ensureBusyboxImage(e: TestEngine, tag: string, o: BusyboxImage): Promise<void> {
  if ((await e.docker("image", "inspect", tag)).code === 0) return;
  const busybox = Bun.which("busybox", { PATH: "/usr/bin:/bin" });
  if (!busybox) throw new Error("busybox-static is not installed (apt-get install busybox-static)");
  const dir = mkdtempSync(join(tmpdir(), "busybox-rootfs-"));
  try {
    const root = join(dir, "rootfs");
    for (const d of ["bin", "tmp", "root"]) mkdirSync(join(root, d), { recursive: true });
    copyFileSync(busybox, join(root, "bin", "busybox"));
    chmodSync(join(root, "bin", "busybox"), 0o755);
    const applets = o.applets === "all" ? (await runTool([busybox, "--list"])).stdout.trim().split("\n") : o.applets;
    for (const a of new Set(applets)) if (a !== "busybox") symlinkSync("busybox", join(root, "bin", a));
    for (const [path, text] of Object.entries(o.files ?? {})) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    const tar = join(dir, "rootfs.tar");
    const t = await runTool(["tar", "-C", root, "-cf", tar, "."]);
    if (t.code !== 0) throw new Error(`tar: ${t.stderr}`);
    const r = await e.docker("import", ...o.changes.flatMap((c) => ["--change", c]), tar, tag);
    if (r.code !== 0) throw new Error(`docker import: ${r.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** local/httpd: busybox `httpd -f -p 80 -h /www` serving /www/index.html. */
export function ensureHttpdImage(e: TestEngine): Promise<void> {
  return ensureBusyboxImage(e, HTTPD_IMAGE, {
    applets: ["sh", "env", "ls", "cat", "nc", "echo", "sleep", "touch"],
    files: { "www/index.html": INDEX_HTML },
    changes: [
      // sh as PID 1 with a TERM trap: `docker stop` ends it at once (busybox httpd as PID 1 would ignore SIGTERM)
      `CMD ["/bin/sh", "-c", "trap 'exit 0' TERM; /bin/busybox httpd -f -p 80 -h /www & wait"]`,
      "ENV PATH=/bin",
    ],
  });
}

/** `local/busybox-all`: busybox with a link for every applet (a run's start script uses sh, sed, base64, tar, cp, mktemp), built once per engine. */
export function ensureBusyboxAllImage(e: TestEngine): Promise<void> {
  return ensureBusyboxImage(e, BUSYBOX_ALL_IMAGE, { applets: "all", changes: ['CMD ["/bin/sh"]', "ENV PATH=/bin HOME=/root"] });
}

/** Every container, network and volume of the engine (to compare before and after). */
export async function engineInventory(e: TestEngine): Promise<string> {
  const ids = async (...args: string[]) => (await e.docker(...args)).stdout.trim().split("\n").filter(Boolean).sort().join(",");
  return [
    `containers: ${await ids("ps", "-aq", "--no-trunc")}`,
    `networks: ${await ids("network", "ls", "-q", "--no-trunc")}`,
    `volumes: ${await ids("volume", "ls", "-q")}`,
  ].join("\n");
}
