import type { ArgsDef } from "../../core/argv.ts";
import { resolveLayout } from "../../core/layout.ts";

export const configArgs = {
  config: { type: "string", description: "Allowlist file (default: the install layout's auth-allowlist.json)", valueHint: "PATH" },
  prefix: { type: "string", description: "Install prefix whose allowlist to use", valueHint: "DIR" },
} as const satisfies ArgsDef;

export function allowlistPath(args: { config?: string | undefined; prefix?: string | undefined }): string {
  return args.config ?? resolveLayout({ prefix: args.prefix }).allowlistPath;
}
