/**
 * The container engine for the runtime tests: the one DOCKER_HOST (or the default socket)
 * points at, probed as `dstackup install --simulate --runtime auto` would. In .ci/run
 * (DSTACK_REQUIRE_ENGINE=1) a missing engine is a failure; elsewhere the tests skip and say why.
 * The test image `local/httpd` is a busybox-static rootfs imported with `docker import`
 * (no registry needed): busybox `httpd -f -p 80 -h /www` serving /www/index.html.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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

/** Build local/httpd once per engine (a second call finds it). */
export async function ensureHttpdImage(e: TestEngine): Promise<void> {
  if ((await e.docker("image", "inspect", HTTPD_IMAGE)).code === 0) return;
  const busybox = Bun.which("busybox", { PATH: "/usr/bin:/bin" });
  if (!busybox) throw new Error("busybox-static is not installed (apt-get install busybox-static)");
  const dir = mkdtempSync(join(tmpdir(), "httpd-rootfs-"));
  try {
    const root = join(dir, "rootfs");
    for (const d of ["bin", "www", "tmp"]) await runTool(["mkdir", "-p", join(root, d)]);
    await runTool(["cp", busybox, join(root, "bin", "busybox")]);
    for (const l of ["sh", "env", "ls", "cat", "nc", "echo", "sleep", "touch"])
      await runTool(["ln", "-s", "busybox", join(root, "bin", l)]);
    writeFileSync(join(root, "www", "index.html"), INDEX_HTML);
    const tar = join(dir, "rootfs.tar");
    const t = await runTool(["tar", "-C", root, "-cf", tar, "."]);
    if (t.code !== 0) throw new Error(`tar: ${t.stderr}`);
    const r = await e.docker(
      "import",
      "--change",
      // sh as PID 1 with a TERM trap: `docker stop` ends it at once (busybox httpd as PID 1 would ignore SIGTERM)
      `CMD ["/bin/sh", "-c", "trap 'exit 0' TERM; /bin/busybox httpd -f -p 80 -h /www & wait"]`,
      "--change",
      "ENV PATH=/bin",
      tar,
      HTTPD_IMAGE,
    );
    if (r.code !== 0) throw new Error(`docker import: ${r.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `local/busybox-all`: busybox with a link for every applet (a run's start script uses sh, sed, base64, tar, cp, mktemp), built once per engine. */
export async function ensureBusyboxAllImage(e: TestEngine): Promise<void> {
  if ((await e.docker("image", "inspect", BUSYBOX_ALL_IMAGE)).code === 0) return;
  const busybox = Bun.which("busybox", { PATH: "/usr/bin:/bin" });
  if (!busybox) throw new Error("busybox-static is not installed (apt-get install busybox-static)");
  const dir = mkdtempSync(join(tmpdir(), "busybox-rootfs-"));
  try {
    const root = join(dir, "rootfs");
    for (const d of ["bin", "tmp", "root"]) await runTool(["mkdir", "-p", join(root, d)]);
    await runTool(["cp", busybox, join(root, "bin", "busybox")]);
    const list = (await runTool([busybox, "--list"])).stdout.trim().split("\n");
    for (const a of list) if (a !== "busybox") await runTool(["ln", "-sf", "busybox", join(root, "bin", a)]);
    const tar = join(dir, "rootfs.tar");
    const t = await runTool(["tar", "-C", root, "-cf", tar, "."]);
    if (t.code !== 0) throw new Error(`tar: ${t.stderr}`);
    const r = await e.docker("import", "--change", 'CMD ["/bin/sh"]', "--change", "ENV PATH=/bin HOME=/root", tar, BUSYBOX_ALL_IMAGE);
    if (r.code !== 0) throw new Error(`docker import: ${r.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
