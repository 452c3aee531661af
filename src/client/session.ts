/** Opening a VMM client for a command: the endpoint from flags, env and install state, then the connection. */
import type { Env, Io } from "../core/io.ts";
import type { VmmClient } from "../core/vmm/client.ts";
import { connectEndpoint, type Endpoint, type EndpointFlags, resolveEndpoint } from "./endpoint.ts";

/** What the client's flows need from the command that runs them: its output, its environment, where warnings go. */
export interface ClientRun {
  io: Io;
  env: Env;
  warn: (message: string) => void;
}

export async function openClient(
  flags: EndpointFlags,
  run: ClientRun,
  opts: { timeoutMs?: number } = {},
): Promise<{ c: VmmClient; ep: Endpoint }> {
  const ep = resolveEndpoint(flags, run.env);
  if (ep.tokenProblem) run.warn(ep.tokenProblem);
  const c = await connectEndpoint(ep, flags, run.warn, opts.timeoutMs, run.env);
  return { c, ep };
}
