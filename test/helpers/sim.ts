/**
 * Start a dstack-vmm-sim in-process (fast) with a generated vmm.toml and guest image, or as its own
 * process. Either is stopped at the end of the run if the test that started it did not (cleanup.ts).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSimulatedImage } from "../../src/host/images/images.ts";
import { loadSimConfig } from "../../src/sim/config.ts";
import { type RunningSim, serveSimulator } from "../../src/sim/server.ts";
import { track } from "./cleanup.ts";

export interface SimOptions {
  token?: string;
  authUrl?: string;
  portMappingEnabled?: boolean;
  cidPoolSize?: number;
  tcp?: boolean;
  extra?: string;
  dir?: string;
  /** [simulator] boot_step_ms (default 2) */
  bootStepMs?: number;
  /** render no top-level kms_url (a VMM without a KMS) */
  noKms?: boolean;
}

export interface TestSim extends RunningSim {
  dir: string;
  vmmToml: string;
  host: string;
  token: string | undefined;
}

export function writeSimConfig(o: SimOptions = {}): { dir: string; vmmToml: string } {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), "sim-"));
  createSimulatedImage(join(dir, "images"), "dstack-0.5.5", "0.5.5");
  const vmmToml = join(dir, "vmm.toml");
  writeFileSync(
    vmmToml,
    [
      o.tcp ? `address = "tcp:127.0.0.1:0"` : `address = "unix:${join(dir, "vmm.sock")}"`,
      `run_path = "${join(dir, "vm")}"`,
      ...(o.noKms ? [] : [`kms_url = "https://127.0.0.1:12001"`]),
      `[image]`,
      `path = "${join(dir, "images")}"`,
      `[cvm]`,
      `cid_start = 1000`,
      `cid_pool_size = ${o.cidPoolSize ?? 1000}`,
      `kms_urls = ["https://10.0.2.2:12001"]`,
      `[cvm.port_mapping]`,
      `enabled = ${o.portMappingEnabled ?? true}`,
      `address = "127.0.0.1"`,
      `range = [{ protocol = "tcp", from = 1, to = 20000 }]`,
      `[auth]`,
      `enabled = ${o.token ? "true" : "false"}`,
      `tokens = [${o.token ? JSON.stringify(o.token) : ""}]`,
      `[simulator]`,
      `boot_step_ms = ${o.bootStepMs ?? 2}`,
      ...(o.authUrl ? [`auth_url = "${o.authUrl}"`] : []),
      o.extra ?? "",
    ].join("\n"),
  );
  return { dir, vmmToml };
}

export function startSim(o: SimOptions = {}): TestSim {
  const { dir, vmmToml } = writeSimConfig(o);
  const r = serveSimulator(loadSimConfig(vmmToml));
  const stop = track({ stop: () => r.stop(), processes: () => [] });
  return { ...r, stop, dir, vmmToml, host: r.url, token: o.token };
}

export interface SimProcess {
  dir: string;
  vmmToml: string;
  host: string;
  token: string | undefined;
  proc: ReturnType<typeof Bun.spawn>;
  /** the banner and anything else it wrote to stderr so far */
  stderr(): string;
  /** SIGTERM and wait; resolves to the exit code */
  stop(): Promise<number>;
}

/**
 * Start the simulator as its own process: the compiled dist/dstack-vmm-sim (default)
 * or the sources (`bun src/main.ts dstack-vmm-sim`, with { source: true }), on a unix
 * socket in a temp dir. Resolves once the socket answers.
 */
export async function spawnSim(o: SimOptions & { source?: boolean } = {}): Promise<SimProcess> {
  const { dir, vmmToml } = writeSimConfig({ ...o, tcp: false });
  const root = join(import.meta.dir, "..", "..");
  const cmd = o.source
    ? [process.execPath, join(root, "src/main.ts"), "dstack-vmm-sim", "-c", vmmToml]
    : [join(root, "dist", "dstack-vmm-sim"), "-c", vmmToml];
  const proc = Bun.spawn(cmd, { cwd: dir, stdin: "ignore", stdout: "ignore", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
  const stop = track({
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      await proc.exited;
    },
    processes: () => [{ pid: proc.pid, mark: vmmToml }],
  });
  let err = "";
  void (async () => {
    const dec = new TextDecoder();
    for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) err += dec.decode(chunk, { stream: true });
  })();
  const sock = join(dir, "vmm.sock");
  const headers: Record<string, string> = o.token ? { authorization: `Bearer ${o.token}` } : {};
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (proc.exitCode !== null) {
      await stop();
      throw new Error(`dstack-vmm-sim exited ${proc.exitCode}: ${err}`);
    }
    try {
      const r = await fetch("http://localhost/prpc/Version?json", { method: "POST", body: "{}", headers, unix: sock } as RequestInit);
      if (r.status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`dstack-vmm-sim did not answer on ${sock}: ${err}`);
    }
    await Bun.sleep(25);
  }
  return {
    dir,
    vmmToml,
    host: `unix:${sock}`,
    token: o.token,
    proc,
    stderr: () => err,
    async stop() {
      await stop();
      return await proc.exited;
    },
  };
}
