/**
 * Flags shared by many commands. citty does not pass a parent's flags to a
 * subcommand, so each leaf spreads the groups it accepts.
 */
import type { ArgsDef } from "citty";

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

/** citty gives a string for one occurrence and an array for repeats. */
export function toList(v: unknown): string[] {
  if (v === undefined || v === null || v === false) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

/**
 * A `--no-x` flag. citty parses `--no-x` as `x: false` (not `"no-x": true`), so
 * read both spellings.
 */
export function negated(args: Record<string, unknown>, name: string): boolean {
  return args[`no-${name}`] === true || args[name] === false;
}
