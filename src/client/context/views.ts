/** The contexts as `dstack context ls` and `inspect` show them: the `default` one first, then the stored ones, the one in use marked. */
import { chooseContext } from "../../core/context/choose.ts";
import { DEFAULT_CONTEXT } from "../../core/context/contexts.ts";
import type { Env } from "../../core/io.ts";
import { contextsPath, readContexts } from "./store.ts";

export interface ContextView {
  name: string;
  description: string;
  /** null for `default`: the install on this machine (or DSTACK_HOST) */
  host: string | null;
  /** the KMS signer pinned for it (`context create --kms-signer`), else null */
  kmsSigner: string | null;
  current: boolean;
}

/** The name of the context commands use now (DSTACK_CONTEXT, else the stored current one; `default` when DSTACK_HOST names an endpoint). */
export function currentContext(env: Env): string {
  return chooseContext({}, env, () => readContexts(contextsPath(env)).current)?.name ?? DEFAULT_CONTEXT;
}

export function contextViews(env: Env): ContextView[] {
  const s = readContexts(contextsPath(env));
  const cur = currentContext(env);
  return [
    {
      name: DEFAULT_CONTEXT,
      description: "The install on this machine (or DSTACK_HOST)",
      host: null,
      kmsSigner: null,
      current: cur === DEFAULT_CONTEXT,
    },
    ...Object.keys(s.contexts)
      .sort()
      .map((name) => {
        const c = s.contexts[name]!;
        return { name, description: c.description, host: c.host, kmsSigner: c.kmsSigner ?? null, current: cur === name };
      }),
  ];
}

/** Why the stored current context is not the one in use: an environment variable names another endpoint. */
export function overriddenBy(env: Env): string | undefined {
  const set = (k: string) => env[k] !== undefined && env[k] !== "";
  if (set("DSTACK_HOST")) return "DSTACK_HOST";
  if (set("DSTACK_VMM_URL")) return "DSTACK_VMM_URL";
  if (set("DSTACK_CONTEXT")) return "DSTACK_CONTEXT";
  return undefined;
}
