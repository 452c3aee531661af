/**
 * Flags shared by many commands. A parent's flags are not passed to a subcommand, so each leaf
 * spreads the groups it accepts.
 */
import type { ArgsDef } from "../../core/argv.ts";

export const outputArgs = {
  json: { type: "boolean", alias: "j", description: "Print JSON on stdout (logs stay on stderr)" },
  quiet: { type: "boolean", alias: "q", description: "Only errors on stderr" },
  verbose: { type: "boolean", alias: "v", description: "More detail on stderr" },
  debug: { type: "boolean", description: "Show stack traces on errors" },
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
  token: { type: "string", description: "VMM API token (env DSTACK_TOKEN; default: the install's token file)" },
  ...prefixArgs,
} as const satisfies ArgsDef;

export const yesArgs = {
  yes: { type: "boolean", alias: "y", description: "Do not ask for confirmation" },
} as const satisfies ArgsDef;

export const dryRunArgs = {
  "dry-run": { type: "boolean", description: "Print what would be done; change nothing" },
} as const satisfies ArgsDef;
