/** Start a dstack-vmm-sim in-process (fast) with a generated vmm.toml and guest image. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSimulatedImage } from "../../src/host/images.ts";
import { loadSimConfig } from "../../src/sim/config.ts";
import { serveSimulator, type RunningSim } from "../../src/sim/server.ts";

export interface SimOptions {
  token?: string;
  authUrl?: string;
  portMappingEnabled?: boolean;
  cidPoolSize?: number;
  tcp?: boolean;
  extra?: string;
  dir?: string;
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
      `boot_step_ms = 2`,
      ...(o.authUrl ? [`auth_url = "${o.authUrl}"`] : []),
      o.extra ?? "",
    ].join("\n"),
  );
  return { dir, vmmToml };
}

export function startSim(o: SimOptions = {}): TestSim {
  const { dir, vmmToml } = writeSimConfig(o);
  const r = serveSimulator(loadSimConfig(vmmToml));
  return { ...r, dir, vmmToml, host: r.url, token: o.token };
}
