/**
 * Attaching to a dev environment: its host key verified against its quote, the `Host NAME`
 * alias written with that key pinned, `ssh NAME` proved to work, the run's ports forwarded
 * through it, `ssh NAME` and the IDE link printed; then wait for Ctrl-C (or, with --logs, follow
 * the run). The alias stays after a detach and goes when the run ends.
 */
import { devConnection } from "../../core/dev-env/connection.ts";
import { authorizedKeysText } from "../../core/dev-env/dev-run.ts";
import { DEV_SSH_PORT } from "../../core/dev-env/host-key-line.ts";
import { IDE_TITLES, ideLink } from "../../core/dev-env/ide-link.ts";
import { sshMapping, sshRoute } from "../../core/dev-env/ssh-route.ts";
import type { RunDescription } from "../../core/dstack-run/run-description.ts";
import { DstackError, RefusedError } from "../../core/errors.ts";
import type { VmmClient } from "../../core/vmm/client.ts";
import type { VmInfo } from "../../core/vmm/types.ts";
import { type FollowEnd, followRun, waitVmDown } from "../apply/follow.ts";
import type { Endpoint } from "../connect/endpoint.ts";
import type { ClientRun } from "../connect/session.ts";
import { openTunnel, probeAlias } from "./forward.ts";
import { attestedHostKey, type Expected, localImagePin } from "./host-key.ts";
import { existingIdentity } from "./identity.ts";
import { removeAlias, sshFiles, writeAlias } from "./ssh-files.ts";

export interface DevAttachOptions {
  ep: Endpoint;
  prefix?: string | undefined;
  sshIdentity?: string | undefined;
  cwd: string;
  /** from apply: the app id and compose hash it just planned */
  expected?: Expected | undefined;
  logs: boolean;
  interrupted: Promise<void>;
  timeoutMs: number;
}

const PROBE_TRIES = 10;

async function proveAlias(config: string, alias: string): Promise<void> {
  let last = "";
  for (let i = 0; i < PROBE_TRIES; i++) {
    last = await probeAlias(config, alias);
    if (!last) return;
    if (/host key verification failed|IDENTIFICATION HAS CHANGED|Permission denied/i.test(last)) break;
    await Bun.sleep(1000);
  }
  if (/host key verification failed|IDENTIFICATION HAS CHANGED/i.test(last)) {
    throw new RefusedError(`ssh ${alias}: the server on the run's SSH port does not hold the attested host key: ${last}`, {
      hint: "the alias was removed; something other than the run's CVM answers on that port",
    });
  }
  throw new DstackError(`ssh ${alias} does not work: ${last}`, {
    hint: "the alias was removed; is the run's sshd up? see `dstack logs NAME`",
  });
}

/** How an attach to a dev environment ended: the run's end, a detach, or the SSH connection lost. */
export type DevEnd = FollowEnd | { kind: "ssh-ended"; reason: string };

export async function attachDev(c: VmmClient, vm: VmInfo, d: RunDescription, o: DevAttachOptions, run: ClientRun): Promise<DevEnd> {
  const { io, env } = run;
  const name = vm.name;
  const ports = vm.configuration?.ports ?? [];
  const route = sshRoute(o.ep.host, sshMapping(ports));
  const conn = devConnection(d, vm.configuration?.compose_file ?? "");
  // read, never generated: a refusal writes nothing, and a key made now cannot be one the run lets in
  const identity = await existingIdentity(o.sshIdentity, env, o.cwd);
  const key = await attestedHostKey(c, vm, {
    expected: o.expected,
    authorizedKeys: identity ? authorizedKeysText(identity.publicKey) : "",
    osImageHash: localImagePin(o.ep, o.prefix, vm),
    timeoutMs: o.timeoutMs,
    interrupted: o.interrupted,
    onWait: () => io.stderr(`Waiting for ${name}'s SSH host key (its sshd is starting)...\n`),
  });
  if (!key) return { kind: "detached" };
  // only a forged line can claim no keys at all
  if (!identity) throw new RefusedError(`${name} lets in no key of yours: attach with the --ssh-identity the run was applied with`);
  io.stderr(
    `Verified ${name}'s SSH host key against its ${key.simulated ? "simulated quote" : "TDX quote"}: ${key.checked.join(", ")}\n` +
      `Not checked: ${key.unchecked.join("; ")}\n`,
  );
  const f = sshFiles(env);
  const include = await writeAlias(
    env,
    {
      alias: name,
      ...route,
      user: conn.user,
      identityFile: identity.privateKey,
      ...(route.proxyJump ? { proxyJump: route.proxyJump } : {}),
    },
    key.key,
  );
  if (include.kind === "added")
    io.stderr(`Added \`Include ${f.config}\` at the top of ${f.userConfig} (once, for the dev environments' aliases)\n`);
  if (include.kind === "failed")
    run.warn(
      `cannot add \`Include ${f.config}\` to ${f.userConfig} (${include.reason}): \`ssh ${name}\` and the IDE link need it; use \`ssh -F ${f.config} ${name}\``,
    );
  const config = include.kind === "failed" ? f.config : f.userConfig;
  try {
    await proveAlias(config, name);
  } catch (e) {
    await removeAlias(env, name);
    throw e;
  }
  const tunnel = await openTunnel(
    config,
    name,
    ports.filter((p) => p.vm_port !== DEV_SSH_PORT && p.protocol === "tcp").map((p) => p.vm_port),
  );
  io.stderr(`Attached to run ${name} (replica=0 job=0)\n`);
  if (tunnel.forwards.length)
    io.stderr(`Forwarded ports (local -> remote):\n${tunnel.forwards.map((p) => `  - localhost:${p.local} -> ${p.remote}`).join("\n")}\n`);
  io.stderr(`To connect to the run via SSH, use \`ssh ${name}\`.\n`);
  if (conn.ide) io.stderr(`To open in ${IDE_TITLES[conn.ide]}, use link below:\n\n  ${ideLink(conn.ide, name, conn.workingDir)}\n\n`);
  io.stderr("Press Ctrl+C to detach...\n");
  let end: DevEnd;
  let quit = () => {};
  const detach = Promise.race([o.interrupted, new Promise<void>((resolve) => (quit = resolve))]);
  try {
    // the terminal's Ctrl-C reaches ssh too: its exit then is our detach
    const sshEnd = tunnel.exited.then(async (reason): Promise<DevEnd> => {
      const ctrlC = await Promise.race([o.interrupted.then(() => true), Bun.sleep(300).then(() => false)]);
      return ctrlC ? { kind: "detached" } : { kind: "ssh-ended", reason };
    });
    end = await Promise.race([o.logs ? followRun(c, vm.id, io, detach) : waitVmDown(c, vm.id, detach), sshEnd]);
  } finally {
    quit();
    await tunnel.stop();
  }
  if (end.kind !== "detached" && end.kind !== "ssh-ended" && (await removeAlias(env, name)))
    io.stderr(`Removed the SSH alias ${name} (the run ended)\n`);
  return end;
}
