/**
 * Which context a command runs in, by docker's precedence: `--context` (never with `--host`);
 * `--host`, DSTACK_HOST or DSTACK_VMM_URL name an endpoint and so no context; then
 * DSTACK_CONTEXT; then the store's current one. `default` (or none) is this machine's install.
 */
import { UsageError } from "../errors.ts";
import type { Env } from "../io.ts";
import { DEFAULT_CONTEXT } from "./contexts.ts";

export interface ChosenContext {
  name: string;
  /** where the name came from, for messages */
  from: string;
}

export function chooseContext(
  f: { host?: string | undefined; context?: string | undefined },
  environ: Env,
  current: () => string | undefined,
): ChosenContext | undefined {
  const env = (k: string) => (environ[k] && environ[k] !== "" ? environ[k] : undefined);
  if (f.context !== undefined && f.host !== undefined)
    throw new UsageError("--host and --context both name the endpoint: give one", { hint: "see `dstack context ls`" });
  let chosen: ChosenContext | undefined;
  if (f.context !== undefined) chosen = { name: f.context, from: "--context" };
  else if (f.host !== undefined || env("DSTACK_HOST") || env("DSTACK_VMM_URL")) return undefined;
  else if (env("DSTACK_CONTEXT")) chosen = { name: env("DSTACK_CONTEXT")!, from: "DSTACK_CONTEXT" };
  else {
    const c = current();
    if (c) chosen = { name: c, from: "the current context (`dstack context use`)" };
  }
  return chosen && chosen.name !== DEFAULT_CONTEXT ? chosen : undefined;
}
