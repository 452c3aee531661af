import { userInfo } from "node:os";
import { applyRun } from "../../../client/apply/apply-flow.ts";
import { parseDuration } from "../../../core/compose/deploy-plan.ts";
import { UsageError } from "../../../core/errors.ts";
import { DEFAULT_HOST_ADDRESS, parseBindAddress } from "../../../core/specs/ports.ts";
import { clientArgs, configFileArgs, dryRunArgs, kmsSignerArgs, sshIdentityArgs, yesArgs } from "../../shared/args.ts";
import { defineCommand } from "../../shared/command.ts";
import { clientRun } from "../../shared/log.ts";

/** An endpoint has a scheme (unix:PATH, http(s)://, ssh://); a bind address never has one. */
const isEndpoint = (v: string) => /^unix:/.test(v) || /^[a-z][a-z0-9+.-]*:\/\//i.test(v);

/**
 * `--host` on apply is both ours (the VMM endpoint) and dstackai's (the local address the run's
 * ports bind to): told apart by their forms, each at most once.
 */
function splitHost(values: readonly string[]): { endpoint: string | undefined; bind: string } {
  const endpoints = values.filter(isEndpoint);
  const binds = values.filter((v) => !isEndpoint(v));
  if (endpoints.length > 1) throw new UsageError(`--host: two VMM endpoints (${endpoints.join(", ")}): give one`);
  if (binds.length > 1) throw new UsageError(`--host: two addresses to bind the run's ports to (${binds.join(", ")}): give one`);
  const bind = binds[0] === undefined ? DEFAULT_HOST_ADDRESS : parseBindAddress(binds[0]);
  if (bind === undefined) {
    throw new UsageError(
      `--host ${JSON.stringify(binds[0])}: neither a VMM endpoint (unix:PATH, http(s)://HOST:PORT, ssh://USER@HOST) nor an address to bind the run's ports to (an IP address or localhost)`,
    );
  }
  return { endpoint: endpoints[0], bind };
}

export default defineCommand({
  meta: {
    name: "apply",
    description:
      "Run a .dstack.yml task, service or dev environment as a confidential VM: plan, confirm, submit, attach (dstack apply -f X [-y] [-d])",
  },
  args: {
    ...configFileArgs,
    ...yesArgs,
    detach: { type: "boolean", alias: "d", description: "Return after submitting; do not attach" },
    force: { type: "boolean", description: "Force apply when no changes detected" },
    name: { type: "string", alias: "n", description: "The run name (overrides name:)" },
    env: {
      type: "string",
      alias: "e",
      description: "Env var, repeatable: KEY=VALUE, or KEY from your environment (sealed to the run)",
      valueHint: "KEY[=VALUE]",
      multiple: true,
    },
    allowlist: {
      type: "string",
      description: "Allowlist file to register the compose hash in (default: the install's)",
      valueHint: "PATH",
    },
    port: {
      type: "string",
      alias: "p",
      description:
        "Port mapping, repeatable, as a ports: item (PORT, LOCAL:CONTAINER, *:CONTAINER): replaces the configuration's for that container port, or adds it (tasks)",
      valueHint: "MAPPING",
      multiple: true,
    },
    timeout: { type: "string", default: "300s", description: "How long to wait for the run's CVM to boot when attached" },
    ...sshIdentityArgs,
    ...kmsSignerArgs,
    ...dryRunArgs,
    ...clientArgs,
    host: {
      type: "string",
      description:
        "VMM endpoint: unix:PATH, http(s)://HOST:PORT or ssh://USER@HOST[:PORT] (env DSTACK_HOST); or, as dstackai, the address the run's ports bind to: an IP address or localhost (the default)",
      valueHint: "URL|ADDR",
      multiple: true,
    },
  },
  async run({ args, rawArgs, io, env }) {
    const dd = rawArgs.indexOf("--");
    const runArgs = dd >= 0 ? rawArgs.slice(dd + 1) : [];
    const { endpoint, bind } = splitHost(args.host);
    let off = () => {};
    const interrupted = new Promise<void>((resolve) => {
      off = io.onSignal(["SIGINT"], () => resolve());
    });
    try {
      return await applyRun(
        {
          ...args,
          host: endpoint,
          bindAddress: bind,
          ports: args.port,
          file: args.file,
          yes: args.yes === true,
          detach: args.detach === true,
          force: args.force === true,
          dryRun: args["dry-run"] === true,
          json: args.json === true,
          quiet: args.quiet === true,
          name: args.name,
          env: args.env ?? [],
          runArgs,
          cwd: process.cwd(),
          user: env.USER ?? userInfo().username,
          bootTimeoutMs: parseDuration(String(args.timeout), "--timeout"),
          interrupted,
          sshIdentity: args["ssh-identity"],
        },
        clientRun({ io, env, args }),
      );
    } finally {
      off();
    }
  },
});
