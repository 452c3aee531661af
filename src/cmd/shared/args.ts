/**
 * Flags shared by many commands. A parent's flags are not passed to a subcommand, so each leaf
 * spreads the groups it accepts.
 */
import { STOP_TIMEOUT } from "../../client/graceful-stop.ts";
import type { ArgsDef } from "../../core/argv.ts";
import { DEFAULTS } from "../../core/compose/deploy-plan.ts";

/** What a command that prints no JSON takes of outputArgs. */
export const logArgs = {
  quiet: { type: "boolean", alias: "q", description: "Only errors on stderr" },
  verbose: { type: "boolean", alias: "v", description: "More detail on stderr" },
  debug: { type: "boolean", description: "Show stack traces on errors" },
} as const satisfies ArgsDef;

export const outputArgs = {
  json: { type: "boolean", alias: "j", description: "Print JSON on stdout (logs stay on stderr)" },
  ...logArgs,
} as const satisfies ArgsDef;

export const prefixArgs = {
  prefix: { type: "string", description: "Root of the install layout (default: system paths)", valueHint: "DIR" },
} as const satisfies ArgsDef;

export const endpointArgs = {
  host: {
    type: "string",
    description: "VMM endpoint: unix:PATH, http(s)://HOST:PORT or ssh://USER@HOST[:PORT] (env DSTACK_HOST)",
    valueHint: "URL",
  },
  context: {
    type: "string",
    description: "Use the endpoint of this context (`dstack context ls`; env DSTACK_CONTEXT; default: the current one)",
    valueHint: "NAME",
  },
  token: { type: "string", description: "VMM API token (env DSTACK_TOKEN; default: the install's token file)" },
  ...prefixArgs,
} as const satisfies ArgsDef;

export const yesArgs = {
  yes: { type: "boolean", alias: "y", description: "Do not ask for confirmation" },
} as const satisfies ArgsDef;

/** `-f FILE`: the .dstack.yml a run verb reads (apply, delete). */
export const configFileArgs = {
  file: {
    type: "string",
    alias: "f",
    description: "The configuration (default .dstack.yml, then .dstack.yaml; - = stdin, needs -y)",
    valueHint: "FILE",
  },
} as const satisfies ArgsDef;

export const dryRunArgs = {
  "dry-run": { type: "boolean", description: "Print what would be done; change nothing" },
} as const satisfies ArgsDef;

// --- dstack's verbs

/** Every verb that talks to a VMM and prints only text (logs: the log as it is; inspect: always JSON). */
export const textClientArgs = {
  ...endpointArgs,
  "insecure-host-key": { type: "boolean", description: "ssh:// hosts: do not check the host key (warns)" },
  ...logArgs,
} as const satisfies ArgsDef;

/** Every verb that talks to a VMM. */
export const clientArgs = {
  ...endpointArgs,
  "insecure-host-key": textClientArgs["insecure-host-key"],
  ...outputArgs,
} as const satisfies ArgsDef;

/** stop, start, restart, rm: the VMs to act on. */
export const vmArg = {
  vm: { type: "positional", required: true, description: "VM names or id prefixes", valueHint: "NAME|ID…", variadic: true },
} as const;

export const detachArg = {
  detach: { type: "boolean", alias: "d", description: "Return once started; do not wait for the boot" },
} as const satisfies ArgsDef;

/** stop and restart: how a VM is stopped. */
export const stopArgs = {
  force: { type: "boolean", alias: "f", description: "Cut the power at once instead of a guest shutdown" },
  timeout: { type: "string", alias: "t", default: STOP_TIMEOUT, description: "How long a guest shutdown may take before the power is cut" },
} as const satisfies ArgsDef;

/** Verbs that seal env vars (run, deploy, apply). */
export const kmsSignerArgs = {
  "kms-signer": {
    type: "string",
    description: "The KMS signer env keys must be signed by (its k256_pubkey; env DSTACK_KMS_SIGNER; default: recorded at install)",
    valueHint: "0x…",
  },
} as const satisfies ArgsDef;

/** apply and attach: the SSH key a dev environment lets in. */
export const sshIdentityArgs = {
  "ssh-identity": {
    type: "string",
    description: "A dev environment's SSH private key (default: one generated once in ~/.config/dstack-tee/ssh/)",
    valueHint: "KEY",
  },
} as const satisfies ArgsDef;

/** run and deploy. */
export const deployArgs = {
  name: { type: "string", alias: "n", description: "VM name (run: derived from the image; deploy: app)" },
  port: {
    type: "string",
    alias: "p",
    description: "Port mapping, repeatable: VM | HOST:VM | PROTO:HOST:VM | PROTO:ADDR:HOST:VM (HOST auto/0 = pick)",
    valueHint: "SPEC",
    multiple: true,
  },
  env: {
    type: "string",
    alias: "e",
    description: "Encrypted env var, repeatable: KEY=VALUE, or KEY to take it from your environment",
    valueHint: "KEY[=VALUE]",
    multiple: true,
  },
  "env-file": { type: "string", description: "Read KEY=VALUE lines (encrypted like -e)", valueHint: "FILE" },
  vcpu: { type: "string", default: DEFAULTS.vcpu, description: "vCPUs" },
  memory: { type: "string", default: DEFAULTS.memory, description: "Memory: 2048 (MiB), 512MB, 2GB, 2GiB" },
  disk: { type: "string", default: DEFAULTS.disk, description: "Disk: 20 (GiB), 20GB" },
  gpu: { type: "string", description: "GPUs: all, none, a count, MODEL[:COUNT] (e.g. H100:2) or PCI slots (18:00.0,2a:00.0)" },
  "guest-image": { type: "string", description: "Guest OS image (default: the install's image)" },
  image: { type: "string", description: "Alias of --guest-image (upstream `dstack deploy --image`)" },
  "no-kms": { type: "boolean", description: "No KMS: the app gets no keys, no env, no allowlist entry" },
  allowlist: { type: "string", description: "Allowlist file to register the compose hash in (default: the install's)", valueHint: "PATH" },
  ...detachArg,
  timeout: { type: "string", default: DEFAULTS.timeout, description: "How long to wait for the boot" },
  ...kmsSignerArgs,
  ...dryRunArgs,
  ...clientArgs,
  quiet: { type: "boolean", alias: "q", description: "Print only the VM id on stdout (as docker run -d); only errors on stderr" },
} as const satisfies ArgsDef;
