/**
 * `dstack apply -f X`: configuration → plan → the plan table and offers as
 * dstackai prints them → confirm → submit (a new CVM) or update in place (same
 * name: the new compose registered, the VM upgraded and restarted, the old hash
 * withdrawn once the new one boots) → detach (`-d`) or attach: wait for the
 * run, stream its lines, exit with its exit code.
 */
import { composeHashOf } from "../../core/compose/app-compose.ts";
import { hostOffers, type Offer } from "../../core/dstack-run/offers.ts";
import { keyValueTable, NO_OFFERS, offersTable, planRows } from "../../core/dstack-run/plan-table.ts";
import { changedProperties, type RunDescription, readRunDescription } from "../../core/dstack-run/run-description.ts";
import { generateRunName } from "../../core/dstack-run/run-name.ts";
import { planRun, type RunPlan } from "../../core/dstack-run/run-plan.ts";
import { runState } from "../../core/dstack-run/run-status.ts";
import { formatIssue } from "../../core/dstack-yml/yaml/issues.ts";
import { DstackError } from "../../core/errors.ts";
import { out } from "../../core/io.ts";
import { canonicalAddress, DEFAULT_HOST_ADDRESS, type PortSpec } from "../../core/specs/ports.ts";
import { formatJson } from "../../core/text/output.ts";
import type { VmmClient } from "../../core/vmm/client.ts";
import type { VmInfo } from "../../core/vmm/types.ts";
import type { AllowlistAccess } from "../allowlist/allowlist-access.ts";
import type { Endpoint, EndpointFlags } from "../connect/endpoint.ts";
import { type ClientRun, openClient } from "../connect/session.ts";
import { deploy, waitBoot } from "../deploy/deploy.ts";
import { sealEnv } from "../deploy/seal-env.ts";
import { sshIdentity } from "../dev-env/identity.ts";
import { stopVmNote } from "../graceful-stop.ts";
import { progressLine } from "../progress-line.ts";
import { waitGone } from "../vm-gone.ts";
import { attach } from "./attach-flow.ts";
import { confirm } from "./confirm.ts";
import { type Host, hostFacts } from "./host-facts.ts";
import { loadConfiguration } from "./load.ts";
import { localRepos, readLocalFiles } from "./local-files.ts";
import { serialTail } from "./run-states.ts";
import { describeVm } from "./runs.ts";
import { readSecrets, secretsPath } from "./secrets.ts";

export interface ApplyFlags extends EndpointFlags {
  file?: string | undefined;
  yes: boolean;
  detach: boolean;
  force: boolean;
  dryRun: boolean;
  json: boolean;
  quiet: boolean;
  name?: string | undefined;
  env: string[];
  /** `-p MAPPING …`: over the configuration's ports, by container port */
  ports: string[];
  /** `--host ADDR`: where the run's ports are published (an IP address; default 127.0.0.1) */
  bindAddress: string;
  runArgs: string[];
  cwd: string;
  user: string;
  bootTimeoutMs: number;
  /** resolves on Ctrl-C while attached */
  interrupted: Promise<void>;
  /** a dev environment's SSH key (default: the client's own) */
  sshIdentity?: string | undefined;
}

function portSpecs(p: RunPlan, bind: string): PortSpec[] {
  return p.ports.map((x) => ({
    spec: `${x.localPort ?? "*"}:${x.vmPort}`,
    protocol: "tcp",
    hostAddress: bind,
    hostPort: x.localPort ?? "auto",
    vmPort: x.vmPort,
  }));
}

function portsText(p: RunPlan, bind: string): string[] {
  const addr = bind === DEFAULT_HOST_ADDRESS ? "localhost" : bind.includes(":") ? `[${bind}]` : bind;
  return p.ports.map((x) => `${x.localPort === null ? "auto" : `${addr}:${x.localPort}`} -> ${x.vmPort}`);
}

/** Whether the run's VM publishes its ports on another address than `bind` (a change --host asks for). */
function rebinds(vm: VmInfo, bind: string): boolean {
  return (vm.configuration?.ports ?? []).some((p) => canonicalAddress(p.host_address || DEFAULT_HOST_ADDRESS) !== canonicalAddress(bind));
}

interface Existing {
  vm: VmInfo;
  description: RunDescription | undefined;
}

/** The same-name message and prompt (dstackai's apply_plan table). */
function sameNameCase(
  name: string,
  ex: Existing,
  plan: RunPlan,
  o: { force: boolean; bind: string },
): { message: string; prompt: string; change: "none" | "update" | "recreate" } {
  const oldHash = composeHashOf(ex.vm.configuration?.compose_file ?? "");
  const after = readRunDescription(plan.dockerCompose)!;
  const changed = ex.description ? changedProperties(ex.description, after) : [];
  const rebind = rebinds(ex.vm, o.bind);
  if (oldHash === plan.built.composeHash && !rebind) {
    return {
      message: `Active run ${name} already exists. Detected no changes.`,
      prompt: "Stop and override the run?",
      change: o.force ? "recreate" : "none",
    };
  }
  if (!ex.description || ex.description.type !== plan.type) {
    return {
      message: `Active run ${name} already exists. Detected changes that cannot be updated in-place:\n- Configuration type`,
      prompt: "Stop and override the run?",
      change: "recreate",
    };
  }
  // The VM's port mappings are made at CreateVm: other ports, or another --host, need a new VM (dstackai: ports are not updatable in place).
  if (changed.includes("ports") || rebind) {
    const list = [
      ...(changed.length ? [`- Configuration properties:\n${changed.map((k) => `  - ${k}`).join("\n")}`] : []),
      ...(rebind ? ["- Bind address (--host)"] : []),
    ];
    return {
      message: `Active run ${name} already exists. Detected changes that cannot be updated in-place:\n${list.join("\n")}`,
      prompt: "Stop and override the run?",
      change: "recreate",
    };
  }
  const list = changed.length ? changed.map((k) => `  - ${k}`).join("\n") : "  - (sealed env or files only)";
  return {
    message: `Active run ${name} already exists. Detected changes that can be updated in-place:\n- Configuration properties:\n${list}`,
    prompt: "Update the run?",
    change: "update",
  };
}

function planJson(plan: RunPlan, host: Host, offers: Offer[], ep: { host: string }, bind: string) {
  return {
    host: ep.host,
    name: plan.name,
    type: plan.type,
    configuration_path: plan.configPath,
    requirements: plan.requirements,
    resources: plan.chosen,
    image: plan.image,
    guest_image: host.guestImage ?? null,
    ports: plan.ports,
    bind_address: bind,
    env: plan.env.map((e) => e.key),
    files: plan.files,
    compose_hash: plan.built.composeHash,
    app_id: plan.built.appId,
    offers,
    docker_compose: plan.dockerCompose,
  };
}

export async function applyRun(f: ApplyFlags, run: ClientRun): Promise<number> {
  const { io } = run;
  const loaded = await loadConfiguration({ file: f.file, yes: f.yes, envOverrides: f.env, cwd: f.cwd, ports: f.ports }, io, run.env);
  for (const w of loaded.warnings) run.warn(formatIssue(w));
  const { c, ep } = await openClient(f, run);
  const pr = progressLine(io, f.quiet || f.json);
  try {
    pr.line("Getting apply plan...");
    const host = await hostFacts(c, ep);
    const name =
      f.name ??
      loaded.config.name ??
      generateRunName(
        host.all.map((v) => v.name),
        Math.random,
      );
    // a dev environment lets in the user's key (sealed like any secret, so not in the compose hash)
    const identity = loaded.config.type === "dev-environment" ? await sshIdentity(f.sshIdentity, run.env, f.cwd) : undefined;
    const plan = planRun({
      config: loaded.config,
      configPath: loaded.path,
      name,
      env: loaded.env,
      secrets: readSecrets(secretsPath(run.env)),
      runArgs: f.runArgs,
      files: readLocalFiles([...loaded.config.files, ...localRepos(loaded.config.repos)], loaded.baseDir),
      ...(identity ? { sshAuthorizedKeys: identity.publicKey } : {}),
    });
    const offers = hostOffers(host, loaded.config.resources, "least", 1).filter((o) => o.available);
    const reasons = hostOffers(host, loaded.config.resources, "least", 1).flatMap((o) => (o.reason ? [o.reason] : []));
    pr.done();
    if (f.json) out(io, formatJson(planJson(plan, host, offers, ep, f.bindAddress)));
    else {
      out(
        io,
        keyValueTable(
          planRows(plan, { host: ep.host, user: f.user, guestImage: host.guestImage ?? "-", ports: portsText(plan, f.bindAddress) }),
          io.color,
        ),
      );
      out(io, "");
      out(io, offersTable(offers, { color: io.color, dim: true }));
      if (!offers.length && reasons.length) io.stderr(`This host: ${reasons.join("; ")}\n`);
    }
    if (f.dryRun) return 0;
    const existing = host.all.find((v) => v.name === name && v.status !== "removing");
    const ex: Existing | undefined = existing ? { vm: existing, description: describeVm(existing) } : undefined;
    if (ex && !ex.description) {
      throw new DstackError(`a VM named ${name} exists and is not a run of a configuration (it was made by dstack run/deploy)`, {
        hint: `pick another name (-n NAME or name:), or remove it with \`dstack rm -f ${name}\``,
      });
    }
    let change: "new" | "update" | "recreate" = "new";
    let question = `Submit the run ${name}?`;
    // a run that has ended is not active: applying it again submits it anew (its CVM is replaced)
    const ended = ex && runState(ex.vm, await serialTail(c, ex.vm.id)).finished;
    if (ex && !ended && !["stopped", "exited"].includes(ex.vm.status)) {
      const s = sameNameCase(name, ex, plan, { force: f.force, bind: f.bindAddress });
      io.stderr(`${s.message}\n`);
      if (s.change === "none" && f.yes) {
        io.stderr("Use --force to apply anyway.\n");
        return 0;
      }
      change = s.change === "none" ? "recreate" : s.change;
      question = s.prompt;
    } else if (ex) change = "recreate";
    if (!(await confirm(io, question, f.yes))) {
      io.stderr("\nExiting...\n");
      return 0;
    }
    if (!offers.length) throw new DstackError(`Failed to submit: ${NO_OFFERS}`, { hint: reasons.join("; ") || undefined });
    if (change === "update") await updateInPlace(c, ex!.vm, plan, ep.allowlist, ep.kmsSigner, f, pr.line);
    else {
      if (change === "recreate") {
        pr.line("Stopping run...");
        await stopVmNote(c, ex!.vm, { force: true, timeoutMs: 0, timeoutText: "0s" });
        await c.removeVm(ex!.vm.id);
        await waitGone(c, ex!.vm.id, "the old run's VM");
      }
      pr.line("Applying plan...");
      await submit(c, plan, host, offers[0]!, ep, f.bindAddress, pr.line);
    }
    pr.done();
    if (f.detach) {
      io.stderr(`Run ${name} ${change === "update" ? "updated" : "submitted"}, detaching...\n`);
      return 0;
    }
    const model = plan.config.type === "service" ? plan.config.model : undefined;
    const dev = {
      ep,
      prefix: f.prefix,
      sshIdentity: f.sshIdentity,
      cwd: f.cwd,
      // an update in place keeps the VM's app id (the first compose's); the compose is the new one
      expected: { appId: change === "update" ? ex!.vm.app_id : plan.built.appId, composeHash: plan.built.composeHash },
    };
    return await attach(c, name, { type: plan.type, model, env: loaded.env }, { ...f, logs: true, dev }, run);
  } finally {
    pr.done();
    c.close();
  }
}

async function submit(c: VmmClient, plan: RunPlan, host: Host, offer: Offer, ep: Endpoint, bind: string, progress: (m: string) => void) {
  const localVmm = ep.host.startsWith("unix:") || /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(ep.host);
  const res = await deploy(
    c,
    {
      name: plan.name,
      dockerCompose: plan.dockerCompose,
      image: host.guestImage!,
      vcpu: plan.chosen.vcpu,
      memoryMiB: plan.chosen.memoryMiB,
      diskGiB: plan.chosen.diskGiB,
      ports: portSpecs(plan, bind),
      env: plan.env,
      kms: true,
      gpus: offer.gpuSlots.length ? { gpus: offer.gpuSlots.map((slot) => ({ slot })), attach_mode: "listed" } : null,
      allowlist: ep.allowlist,
      localVmm,
      portPolicy: ep.portPolicy,
      kmsSigner: ep.kmsSigner,
    },
    plan.built,
    progress,
  );
  return res;
}

/** Same name, compose changed: register the new hash, upgrade the VM, restart it, withdraw the old hash once it boots. */
async function updateInPlace(
  c: VmmClient,
  vm: VmInfo,
  plan: RunPlan,
  allowlist: AllowlistAccess,
  kmsSigner: string | undefined,
  f: ApplyFlags,
  progress: (m: string) => void,
) {
  progress("Updating the run in place...");
  const oldHash = composeHashOf(vm.configuration?.compose_file ?? "");
  // sealed first: a refused env key changes nothing
  const encrypted = plan.env.length ? await sealEnv(c, vm.app_id, plan.env, kmsSigner) : "";
  await allowlist.register(vm.app_id, plan.built.composeHash);
  await c.upgradeApp({ id: vm.id, compose_file: plan.built.composeFile, encrypted_env: encrypted });
  await stopVmNote(c, vm, { force: false, timeoutMs: 30_000, timeoutText: "30s" });
  await c.startVm(vm.id);
  const booted = await waitBoot(c, vm.id, f.bootTimeoutMs, progress);
  if (!booted.ok)
    throw new DstackError(`${vm.name} did not boot after the update: ${booted.reason}`, { hint: `dstack logs ${vm.name} --diagnose` });
  await allowlist.withdrawUnused(c, { appId: vm.app_id, hashes: [oldHash] });
}
