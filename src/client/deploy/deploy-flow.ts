/** The flow `dstack run` and `dstack deploy` share: flags → plan (core/compose/deploy-plan.ts) → deploy → wait → report. */
import { DEFAULTS, type DeployFlags, type DeploySource, formatPlan, planDeploy, planSummary } from "../../core/compose/deploy-plan.ts";
import { DstackError, UsageError } from "../../core/errors.ts";
import { out } from "../../core/io.ts";
import { checkPortPolicy } from "../../core/specs/ports.ts";
import { selectGpus } from "../../core/specs/resources.ts";
import { noEngineNote } from "../../core/specs/sim-runtime.ts";
import { formatJson } from "../../core/text/output.ts";
import { isDialHost } from "../../core/vmm/transport-ssh.ts";
import { resolveEndpoint } from "../connect/endpoint.ts";
import { type ClientRun, openClient } from "../connect/session.ts";
import { progressLine } from "../progress-line.ts";
import { deploy, waitBoot } from "./deploy.ts";
import { readInputFile } from "./input-file.ts";

/** The parsed flags of run and deploy (deployArgs in cmd/shared/args.ts). */
type DeployRunArgs = Record<string, unknown> & {
  _: string[];
  host?: string;
  token?: string;
  prefix?: string;
  allowlist?: string;
  quiet?: boolean;
  verbose?: boolean;
  json?: boolean;
};

function flagsOf(args: DeployRunArgs): DeployFlags {
  const s = (k: string) => (args[k] === undefined ? undefined : String(args[k]));
  const envFile = s("env-file");
  return {
    name: s("name"),
    port: args.port as string[],
    env: args.env as string[],
    envFile: envFile ? { path: envFile, text: readInputFile(envFile, "--env-file") } : undefined,
    vcpu: s("vcpu"),
    memory: s("memory"),
    disk: s("disk"),
    gpu: s("gpu"),
    guestImage: s("guest-image") ?? s("image"),
    kms: args["no-kms"] !== true,
    timeout: s("timeout"),
  };
}

export async function runDeploy(args: DeployRunArgs, run: ClientRun, src: DeploySource): Promise<number> {
  const { io, env } = run;
  const local = resolveEndpoint(args, env);
  // An ssh:// host's image and port policy are the host's dstack's to say: connect first.
  const early = isDialHost(local.host) ? await openClient(args, run) : undefined;
  const ep = early?.ep ?? local;
  let plan: ReturnType<typeof planDeploy>;
  try {
    plan = planDeploy(src, flagsOf(args), env, ep.image);
  } catch (e) {
    early?.c.close();
    throw e;
  }
  // Fixed host ports against the VMM's allowed ranges, before anything is asked of it.
  if (ep.portPolicy) checkPortPolicy(plan.ports, ep.portPolicy);
  else if (ep.portPolicyProblem && args.quiet !== true) io.stderr(`warning: ${ep.portPolicyProblem}\n`);
  if (args["dry-run"]) {
    early?.c.close();
    out(
      io,
      args.json
        ? formatJson({ dryRun: true, ...planSummary(plan), manifest: plan.built.manifest, composeFile: plan.built.composeFile })
        : formatPlan(plan, ep.allowlistPath),
    );
    return 0;
  }
  const { c } = early ?? (await openClient(args, run));
  const pr = progressLine(io, args.quiet === true || args.json === true);
  try {
    const images = (await c.listImages()).map((i) => i.name);
    if (!images.includes(plan.guestImage)) {
      throw new UsageError(`--guest-image ${plan.guestImage}: the VMM has no such guest image (it has: ${images.join(", ") || "none"})`, {
        hint: images.length ? `pass --guest-image ${images[0]}` : "pull one on the host with `dstackup image pull`",
      });
    }
    const gpus = plan.gpu ? (selectGpus(plan.gpu, (await c.listGpus()).gpus) ?? null) : null;
    const localVmm = ep.host.startsWith("unix:") || /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(ep.host);
    const req = {
      name: plan.name,
      dockerCompose: plan.dockerCompose,
      image: plan.guestImage,
      vcpu: plan.vcpu,
      memoryMiB: plan.memoryMiB,
      diskGiB: plan.diskGiB,
      ports: plan.ports,
      env: plan.env,
      kms: plan.kms,
      gpus,
      allowlist: ep.allowlist,
      localVmm,
      portPolicy: ep.portPolicy,
      kmsSigner: ep.kmsSigner,
    };
    const res = await deploy(c, req, plan.built, pr.line);
    let booted: Awaited<ReturnType<typeof waitBoot>> | undefined;
    if (!args.detach) {
      // Ctrl-C while waiting: the VM exists and keeps booting; say so in one line and exit 130 (128 + SIGINT).
      // The handler is in place before "created VM" is printed, so a Ctrl-C that answers that line is caught.
      let offSignal = () => {};
      const interrupted = new Promise<"interrupted">((resolve) => {
        offSignal = io.onSignal(["SIGINT"], () => resolve("interrupted"));
      });
      pr.line(`created VM ${res.vmId}`);
      const outcome = await Promise.race([waitBoot(c, res.vmId, plan.timeoutMs, (m) => pr.line(`${res.name}: ${m}`)), interrupted]);
      offSignal();
      if (outcome === "interrupted") {
        pr.done();
        io.stderr(
          `interrupted: VM ${res.name} (${res.vmId}) was created and keeps booting; follow it with \`dstack logs -f ${res.name}\` or \`dstack ps\`\n`,
        );
        return 130;
      }
      booted = outcome;
    } else pr.line(`created VM ${res.vmId}`);
    pr.done();
    const timedOut = booted !== undefined && !booted.ok && booted.timedOut === true;
    const result = {
      ...res,
      status: booted ? (booted.ok ? "running" : timedOut ? "timed out" : "failed") : "created",
      reason: booted && !booted.ok ? booted.reason : null,
      instanceId: booted?.vm?.instance_id ?? null,
    };
    const noEngine = booted?.vm ? noEngineNote(booted.vm.events) : undefined;
    if (args.json) out(io, formatJson(noEngine ? { ...result, note: noEngine } : result));
    else if (args.quiet)
      out(io, res.vmId); // as `docker run -d`: the id alone, for scripts
    else {
      const lines = [
        `vm:           ${res.vmId}`,
        `name:         ${res.name}`,
        `app id:       ${res.appId}`,
        `compose hash: ${res.composeHash}`,
      ];
      for (const p of res.ports) lines.push(`port:         ${p.url}  (→ ${p.vm_port} in the CVM)`);
      if (res.encryptedEnv.length) lines.push(`env:          ${res.encryptedEnv.join(", ")} (encrypted for this app)`);
      lines.push(
        booted
          ? booted.ok
            ? `status:       running (boot done, instance ${booted.vm.instance_id})`
            : timedOut
              ? `status:       still booting (${booted.reason})`
              : `status:       boot failed`
          : `status:       created (--detach: not waiting; follow with \`dstack logs -f ${res.name}\`)`,
      );
      if (noEngine) lines.push(`note:         ${noEngine}`);
      out(io, lines.join("\n"));
    }
    if (booted && !booted.ok) {
      if (timedOut) {
        throw new DstackError(
          `${res.name} has not finished booting within --timeout ${args.timeout ?? DEFAULTS.timeout} (${booted.reason}); it keeps booting`,
          {
            hint: `follow it with \`dstack logs -f ${res.name}\` or \`dstack ps\``,
          },
        );
      }
      throw new DstackError(`${res.name} did not boot: ${booted.reason}`, { hint: `dstack logs ${res.name}` });
    }
    return 0;
  } finally {
    pr.done();
    c.close();
  }
}
