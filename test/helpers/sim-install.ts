/** A `dstackup install --simulate` in a temp prefix (the simulator plays the VMM and the KMS, the real dstack-auth decides), for tests of dstack against it. */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { daemonsUnder, track } from "./cleanup.ts";
import { runCli } from "./cli.ts";
import { runBin } from "./run.ts";

export interface SimInstall {
  prefix: string;
  /** dstack with --prefix (the install's endpoint, port policy and allowlist): the binary, or in-process with inProcess */
  dstack(args: string[]): ReturnType<typeof runBin>;
  /** dstack through the VMM's URL and token, as for a remote endpoint (no port policy known; the install's allowlist and image) */
  remote(args: string[]): ReturnType<typeof runBin>;
  allowlistPath: string;
  allowlist(): { apps: Record<string, { composeHashes: string[] }> };
  /** A prpc call to the install's VMM (JSON), for setting a test up faster than through dstack. */
  vmm(method: string, body: unknown): Promise<unknown>;
  /** `dstackup install` again with the same flags (an upgrade or repair run). */
  reinstall(): ReturnType<typeof runBin>;
  destroy(): Promise<void>;
}

export interface SimInstallFlags {
  /** "none" (default: the tests deploy images of a registry), "docker" for tests whose apps run, or "auto" (dstackup's default) */
  runtime?: "none" | "docker" | "auto";
  /** false: --no-kms (no KMS CVM); default a KMS CVM on a random port */
  kms?: boolean;
  /** --timeout in seconds */
  timeout?: number;
}

/** The flags after `dstackup install` for a simulated install into prefix with detached daemons, on random ports. */
export function simInstallFlags(prefix: string, o: SimInstallFlags = {}): string[] {
  const base = 21000 + Math.floor(Math.random() * 9000);
  const flags = ["--simulate", "--runtime", o.runtime ?? "none", "--service-manager", "detached", "--prefix", prefix];
  flags.push("--dashboard-port", String(base), "--auth-port", String(base + 1));
  // the KMS CVM's port is a VMM port mapping: inside its range (tcp 1-20000)
  flags.push(...(o.kms === false ? ["--no-kms"] : ["--kms-port", String(11000 + Math.floor(Math.random() * 8000))]));
  if (o.timeout !== undefined) flags.push("--timeout", String(o.timeout));
  return flags;
}

export interface SimInstallOptions {
  runtime?: "none" | "docker";
  /** dstack() and remote() run the command in this process (faster) instead of the compiled binary */
  inProcess?: boolean;
}

export async function simInstall(name: string, o: SimInstallOptions = {}): Promise<SimInstall> {
  const prefix = mkdtempSync(join(tmpdir(), `${name}-`));
  let installArgs: string[] = [];
  const dstack = (args: string[]) => (o.inProcess ? runCli("dstack", args) : runBin("dstack", args));
  // destroyed at the end of the run if the test does not (cleanup.ts); a failed install at once
  const destroy = track({
    stop: () => runBin("dstackup", ["destroy", "--purge", "-y", "-q", "--prefix", prefix]),
    processes: () => daemonsUnder(prefix),
  });
  let r: Awaited<ReturnType<typeof runBin>>;
  // random ports: one another suite on this machine holds is refused by preflight (nothing written); take others
  for (let attempt = 1; ; attempt++) {
    installArgs = ["install", ...simInstallFlags(prefix, { runtime: o.runtime }), "-q"];
    r = await runBin("dstackup", installArgs);
    if (r.code === 0 || attempt === 3 || !r.stderr.includes("preflight failed (ports)")) break;
  }
  if (r.code !== 0) {
    await destroy();
    throw new Error(`install failed: ${r.stderr}`);
  }
  const st = JSON.parse(readFileSync(join(prefix, "var/lib/dstack/dstackup-state.json"), "utf8"));
  const token = st.client_token_path ? readFileSync(st.client_token_path, "utf8").trim() : "";
  const allowlistPath = join(prefix, "etc/dstack/auth-allowlist.json");
  return {
    prefix,
    allowlistPath,
    dstack: (args) => dstack(["--prefix", prefix, ...args]),
    remote: (args) => dstack(["--host", st.client_url, "--token", token, "--prefix", prefix, ...args]),
    allowlist: () => JSON.parse(readFileSync(allowlistPath, "utf8")),
    vmm: async (method, body) => {
      const r = await fetch(`${st.client_url}/prpc/${method}?json`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
      if (!r.ok) throw new Error(`${method}: ${r.status} ${await r.text()}`);
      return r.json();
    },
    reinstall: () => runBin("dstackup", installArgs),
    destroy,
  };
}
