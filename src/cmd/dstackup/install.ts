import { existsSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { DstackError, ExitCode, RefusedError, UsageError } from "../../core/errors.ts";
import { type Io, out } from "../../core/io.ts";
import { lineDiff } from "../../core/text/diff.ts";
import { formatJson } from "../../core/text/output.ts";
import { applyInstall, NothingStartedError } from "../../host/install/apply.ts";
import { type InstallPlan, installLayout, planInstall } from "../../host/install/plan.ts";
import { blocking, formatCheck } from "../../host/install/preflight.ts";
import { dryRunArgs, outputArgs, yesArgs } from "../shared/args.ts";
import { defineCommand } from "../shared/command.ts";
import { installArgs, installFlagsFrom, probeRuntime } from "./install-args.ts";
import { lockArgs, locked } from "./lock-args.ts";
import { stderrProgress } from "./progress.ts";

/** A failure once install has begun changing the host: the cause's message and exit code, and how to undo what was started. */
class PastPreflightError extends DstackError {
  override get exitCode(): number {
    return this.cause instanceof DstackError ? this.cause.exitCode : ExitCode.failure;
  }
}

function describePlan(plan: InstallPlan, actions: Record<string, string>): string {
  const lines: string[] = [`dstackup install --dry-run: nothing was changed. This would:`];
  if (plan.createImage) lines.push(`  create simulated guest image ${plan.createImage} in ${plan.layout.imageDir}`);
  for (const [link, target] of plan.links) {
    let current: string | undefined;
    try {
      current = readlinkSync(link);
    } catch {
      current = undefined;
    }
    if (current !== target) lines.push(`  link ${link} -> ${target}`);
  }
  for (const f of plan.files) {
    if (f.before === f.content) lines.push(`  keep   ${f.path} (unchanged)`);
    else if (f.before === undefined) lines.push(`  create ${f.path}${f.secret ? " (secret, 0600)" : ""}`);
    else {
      lines.push(`  update ${f.path}`);
      if (!f.secret) lines.push(lineDiff(f.before, f.content).replace(/^/gm, "      "));
    }
  }
  lines.push(
    `  allowlist ${plan.layout.allowlistPath}: set os image pin to ${plan.pin ?? (plan.createImage ? "the generated image's digest" : "none")}, keep registered apps`,
  );
  if (plan.manager.kind === "systemd") {
    for (const spec of [plan.auth, plan.vmm]) {
      const path = plan.manager.unitPath(spec.name);
      const before = existsSync(path) ? readFileSync(path, "utf8") : undefined;
      if (before === spec.unitText) lines.push(`  keep   ${path} (unchanged)`);
      else if (before === undefined) lines.push(`  create ${path}`, spec.unitText.trimEnd().replace(/^/gm, "      + "));
      else lines.push(`  update ${path}`, lineDiff(before, spec.unitText).replace(/^/gm, "      "));
    }
  }
  lines.push(`  services (${plan.manager.kind}):`);
  for (const [name, a] of Object.entries(actions))
    lines.push(`    ${name}: ${a === "unchanged" ? "keep running (unchanged)" : a === "started" ? "start" : "restart"}`);
  lines.push(
    `  ports: dashboard 127.0.0.1:${plan.cfg.dashboardPort}, auth 127.0.0.1:${plan.cfg.authPort}${plan.cfg.kmsPort ? `, kms 127.0.0.1:${plan.cfg.kmsPort}` : ""}`,
  );
  lines.push(
    `  kms: ${plan.flags.noKms ? "skipped (--no-kms)" : plan.prev?.kms_vm_id ? `reuse vm ${plan.prev.kms_vm_id} if it exists (updated and restarted if its image, port or kms.toml differs from this plan), else deploy dstack-kms` : "deploy the dstack-kms CVM"}`,
  );
  return `${lines.join("\n")}\n`;
}

export default defineCommand({
  meta: { name: "install", description: "Install and start the VMM, the auth webhook and a single-node KMS (idempotent)" },
  args: {
    ...installArgs,
    timeout: { type: "string", default: "240", description: "Seconds to wait for each daemon and the KMS CVM" },
    "no-start": { type: "boolean", description: "Write configs only; start nothing" },
    ...lockArgs,
    ...dryRunArgs,
    ...yesArgs,
    ...outputArgs,
  },
  async run({ args, io, env }) {
    const flags = installFlagsFrom(args);
    const timeout = Number(args.timeout);
    if (!Number.isFinite(timeout) || timeout <= 0)
      throw new UsageError(`--timeout must be a positive number of seconds (got ${args.timeout})`);
    const json = args.json === true;
    const quiet = args.quiet === true;
    const say = (s: string) => {
      if (!quiet) io.stderr(`${s}\n`);
    };
    say(`dstackup install${flags.simulate ? " --simulate" : ""} — preflight`);
    const install = async () => {
      const plan = await planInstall(await probeRuntime(flags, env), (m) => io.stderr(`warning: ${m}\n`));
      try {
        return await runPlan(plan, args, io, json, quiet, timeout, say);
      } finally {
        if (plan.bundleDir) rmSync(plan.bundleDir, { recursive: true, force: true });
      }
    };
    // --dry-run changes nothing: it needs no lock
    return args["dry-run"] ? await install() : await locked(installLayout(flags), args, io, install);
  },
});

async function runPlan(
  plan: InstallPlan,
  args: { "dry-run"?: boolean | undefined; "no-start"?: boolean | undefined },
  io: Io,
  json: boolean,
  quiet: boolean,
  timeout: number,
  say: (s: string) => void,
): Promise<number> {
  for (const c of plan.checks) say(formatCheck(c));
  const failed = blocking(plan.checks);
  if (failed.length) {
    if (json) out(io, formatJson({ ok: false, refused: failed.map((c) => ({ check: c.name, detail: c.detail, fix: c.fix })) }));
    throw new RefusedError(`preflight failed (${failed.map((c) => c.name).join(", ")}); nothing was changed`, {
      hint: `fix the above, or demote a check with --ignore-preflight-errors ${failed.map((c) => c.name).join(",")}`,
    });
  }
  const actions = {
    [plan.auth.name]: await plan.manager.wouldChange(plan.auth, plan.restartAuth),
    [plan.vmm.name]: await plan.manager.wouldChange(plan.vmm, plan.restartVmm),
  };
  if (args["dry-run"]) {
    if (json) {
      out(
        io,
        formatJson({
          dryRun: true,
          files: plan.files.map((f) => ({
            path: f.path,
            action: f.before === f.content ? "keep" : f.before === undefined ? "create" : "update",
          })),
          units:
            plan.manager.kind === "systemd"
              ? [plan.auth, plan.vmm].map((u) => {
                  const path = plan.manager.unitPath(u.name);
                  const before = existsSync(path) ? readFileSync(path, "utf8") : undefined;
                  return { path, action: before === u.unitText ? "keep" : before === undefined ? "create" : "update" };
                })
              : [],
          services: actions,
          createImage: plan.createImage ?? null,
          ports: { dashboard: plan.cfg.dashboardPort, auth: plan.cfg.authPort, kms: plan.cfg.kmsPort || null },
        }),
      );
    } else out(io, describePlan(plan, actions));
    return 0;
  }
  say("dstackup install — apply");
  let r: Awaited<ReturnType<typeof applyInstall>>;
  try {
    r = await applyInstall(plan, stderrProgress(io, quiet), { timeoutMs: timeout * 1000, noStart: args["no-start"] === true });
  } catch (e) {
    if (e instanceof NothingStartedError) throw e; // its hint already says there is nothing to undo
    // Past preflight, a failure can leave daemons running: say how to see and undo it.
    const p = plan.layout.prefix ? ` --prefix ${plan.layout.prefix}` : "";
    const next = `what was started keeps running (\`dstackup status${p}\`): fix the cause and run the same install again, or undo it with \`dstackup destroy${p}\``;
    const err = e instanceof Error ? e : new Error(String(e));
    const hint = e instanceof DstackError && e.hint ? `${e.hint}\n  then: ${next}` : next;
    throw new PastPreflightError(err.message, { hint, cause: e });
  }
  const nothing = r.changed.length === 0 && Object.values(r.services).every((a) => a === "unchanged");
  if (json) {
    out(
      io,
      formatJson({
        ok: true,
        changed: r.changed,
        services: r.services,
        noChange: nothing,
        clientUrl: r.clientUrl,
        tokenPath: plan.layout.tokenPath,
        kms: r.kms ?? null,
        state: plan.layout.stateFile,
      }),
    );
    return r.kms && r.kms.boot !== "booted" ? 1 : 0;
  }
  if (nothing) say("  no change: everything was already installed as asked (nothing written, nothing restarted)");
  const dstack = plan.layout.prefix ? `dstack --prefix ${plan.layout.prefix}` : "dstack";
  const lines = [
    "",
    `dashboard: ${r.clientUrl}  (localhost only — from elsewhere: ssh -L ${plan.cfg.dashboardPort}:127.0.0.1:${plan.cfg.dashboardPort} <this-host>)`,
    `token:     ${plan.layout.tokenPath}  (the dashboard asks for a login: any user name, the token as the password)`,
    r.kmsUrl ? `kms:       ${r.kmsUrl}  (apps reach it via this address)` : `kms:       none (--no-kms)`,
    `status:    dstackup status${plan.layout.prefix ? ` --prefix ${plan.layout.prefix}` : ""}`,
    `deploy an app with: ${dstack} run nginx -p 8080:80`,
  ];
  out(io, lines.join("\n"));
  return r.kms && r.kms.boot !== "booted" ? 1 : 0;
}
