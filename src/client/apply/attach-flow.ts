/**
 * Attached to a run (`dstack attach`, and `dstack apply` without -d): wait for its CVM to boot,
 * print its URLs (a service, and wait for its probes) or ports, then wait for Ctrl-C or, with the logs, stream its lines;
 * the exit code is the run's. A dev environment attaches over SSH (src/client/dev-env).
 */
import { retriesOnError } from "../../core/dstack-run/run-description.ts";
import { appLines } from "../../core/dstack-run/run-log.ts";
import { currentBoot, runState } from "../../core/dstack-run/run-status.ts";
import { DstackError, NotFoundError } from "../../core/errors.ts";
import type { Io } from "../../core/io.ts";
import type { VmmClient } from "../../core/vmm/client.ts";
import type { VmInfo } from "../../core/vmm/types.ts";
import type { ClientRun } from "../connect/session.ts";
import { waitBoot } from "../deploy/deploy.ts";
import { attachDev, type DevAttachOptions, type DevEnd } from "../dev-env/attach-dev.ts";
import { removeAlias } from "../dev-env/ssh-files.ts";
import { stopVmNote } from "../graceful-stop.ts";
import { progressLine } from "../progress-line.ts";
import { followRun } from "./follow.ts";
import { announceWhenUp, serviceProbes } from "./probes.ts";
import { serialTail } from "./run-states.ts";
import { describeVm } from "./runs.ts";

export interface AttachTarget {
  type: string;
  model?: { name: string; prefix: string } | null | undefined;
  /** the run's env after -e, for `${{ env.X }}` in a service's probes (only apply has it) */
  env?: Map<string, string> | undefined;
}

export interface AttachFlags {
  bootTimeoutMs: number;
  /** resolves on Ctrl-C */
  interrupted: Promise<void>;
  quiet: boolean;
  logs: boolean;
  /** what a dev environment needs (the endpoint, the identity) */
  dev: Omit<DevAttachOptions, "logs" | "interrupted" | "timeoutMs">;
}

/** The message for how the attach ended, and the exit code. */
function reportEnd(end: DevEnd, name: string, logs: boolean, io: Io): number {
  if (end.kind === "detached") {
    const again = `dstack attach ${name}${logs ? " --logs" : ""}`;
    io.stderr(`\nDetached. The run goes on; reattach with \`${again}\`, stop it with \`dstack stop ${name}\`.\n`);
    return 0;
  }
  if (end.kind === "ssh-ended") {
    io.stderr(`\nThe SSH connection to ${name} ended: ${end.reason}\nReattach with \`dstack attach ${name}\`.\n`);
    return 1;
  }
  if (end.kind === "vm-down") {
    io.stderr(`\nRun ${name} is ${end.status === "stopped" ? "stopped" : "terminated"}\n`);
    return 1;
  }
  if (end.maxDuration) {
    io.stderr(`\nRun ${name} terminated (max_duration exceeded)\n`);
    return 1;
  }
  if (end.stopped) {
    io.stderr(`\nRun ${name} is stopped\n`);
    return 1;
  }
  if (end.code === 0) {
    io.stderr(`\nRun ${name} done (exited (0))\n`);
    return 0;
  }
  io.stderr(`\nExited (${end.code})\nCheck \`dstack logs ${name} --diagnose\` for more details.\n`);
  return end.code;
}

/**
 * The run's command has ended: shut its CVM down (waited for) so its resources are freed, as
 * dstackai terminates a finished run; its exit line and logs stay readable while the VM exists.
 * A run that retries on errors keeps its CVM after a failure (compose starts the command again).
 */
async function endRun(c: VmmClient, vm: VmInfo): Promise<void> {
  const d = describeVm(vm);
  const now = (await c.status({ ids: [vm.id], brief: true })).vms[0];
  if (!d || !now || now.status !== "running") return;
  if (retriesOnError(d) && runState(now, await serialTail(c, vm.id)).status === "failed") return;
  await stopVmNote(c, now, { force: false, timeoutMs: 30_000, timeoutText: "30s" });
}

export async function attach(c: VmmClient, name: string, target: AttachTarget, f: AttachFlags, run: ClientRun): Promise<number> {
  const { io } = run;
  const vm = (await c.status({ brief: false })).vms.find((v) => v.name === name && v.status !== "removing");
  if (!vm) throw new NotFoundError(`Run ${name} does not exist`);
  const log = await serialTail(c, vm.id, 100000);
  const before = runState(vm, log);
  if (before.finished) {
    // ended (its CVM shut down, or about to be): its lines of this boot, its outcome
    if (f.logs) io.stdout(appLines(currentBoot(log)));
    if (before.exitCode !== null) await endRun(c, vm);
    if (await removeAlias(run.env, name)) io.stderr(`Removed the SSH alias ${name} (the run ended)\n`);
    // a run that ended before we looked says what one that ends while attached says (reportEnd)
    io.stderr(before.status === "done" ? `Run ${name} done (exited (0))\n` : `Run ${name} is ${before.status} (${before.message})\n`);
    return before.status === "done" ? 0 : before.exitCode || 1;
  }
  const pr = progressLine(io, f.quiet);
  pr.line(`Launching ${name}...`);
  const booted = await waitBoot(c, vm.id, f.bootTimeoutMs, () => {});
  pr.done();
  if (!booted.ok) {
    io.stderr(`\n${name} provisioning completed (failed)\n`);
    throw new DstackError(`${name} did not boot: ${booted.reason}`, { hint: `Check \`dstack logs ${name} --diagnose\` for more details.` });
  }
  io.stderr(`\n${name} provisioning completed (running)\n`);
  const full = (await c.status({ ids: [vm.id], brief: false })).vms[0];
  const d = full && describeVm(full);
  if (target.type === "dev-environment" && full && d) {
    const end = await attachDev(c, full, d, { ...f.dev, logs: f.logs, interrupted: f.interrupted, timeoutMs: f.bootTimeoutMs }, run);
    if (end.kind === "exited") await endRun(c, vm);
    return reportEnd(end, name, f.logs, io);
  }
  const ports = full?.configuration?.ports ?? [];
  if (target.type === "service" && ports[0]) {
    const url = `http://${ports[0].host_address === "0.0.0.0" ? "127.0.0.1" : ports[0].host_address}:${ports[0].host_port}/`;
    io.stderr(`Service is published at:\n  ${url}\n`);
    if (target.model) io.stderr(`Model ${target.model.name} is published at:\n  ${url}${target.model.prefix.replace(/^\//, "")}\n`);
  } else if (ports.length) {
    io.stderr(
      `Forwarded ports (local -> remote):\n${ports.map((p) => `  - ${p.host_address}:${p.host_port} -> ${p.vm_port}`).join("\n")}\n`,
    );
  }
  // a service's probes, checked through its published port while attached
  const up =
    full && d
      ? announceWhenUp(serviceProbes(f.dev.ep.host, full, d), name, {
          env: target.env,
          timeoutMs: f.bootTimeoutMs,
          say: (l) => io.stderr(`${l}\n`),
        })
      : undefined;
  if (!f.logs) {
    io.stderr(`Attached to run ${name} (replica=0 job=0)\nPress Ctrl+C to detach...\n`);
    await f.interrupted;
    await up?.stop();
    io.stderr("Detached\n");
    return 0;
  }
  const end = await followRun(c, vm.id, io, f.interrupted);
  await up?.stop();
  if (end.kind === "exited") await endRun(c, vm);
  return reportEnd(end, name, true, io);
}
