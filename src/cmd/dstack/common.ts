/** Flags and helpers shared by the dstack verbs. */

import { connectEndpoint, type Endpoint, type EndpointFlags, resolveEndpoint } from "../../client/endpoint.ts";
import type { ArgsDef } from "../../core/argv.ts";
import type { Env, Io } from "../../core/io.ts";
import type { VmmClient } from "../../core/vmm/client.ts";
import { endpointArgs, outputArgs } from "../shared/args.ts";
import { createLogger } from "../shared/log.ts";

export const clientArgs = {
  ...endpointArgs,
  "insecure-host-key": { type: "boolean", description: "ssh:// hosts: do not check the host key (warns)" },
  ...outputArgs,
} as const satisfies ArgsDef;

export async function openClient(
  args: EndpointFlags & { quiet?: boolean | undefined; verbose?: boolean | undefined },
  io: Io,
  env: Env,
  opts: { timeoutMs?: number } = {},
): Promise<{ c: VmmClient; ep: Endpoint }> {
  const log = createLogger(io, args);
  const ep = resolveEndpoint(args, env);
  if (ep.tokenProblem) log.warn(ep.tokenProblem);
  const c = await connectEndpoint(ep, args, (m) => log.warn(m), opts.timeoutMs);
  return { c, ep };
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/** Progress on stderr: plain lines, or on a TTY one line with a spinner, rewritten in place. */
export function progressPrinter(io: Io, quiet: boolean): { line: (m: string) => void; done: () => void } {
  const tty = io.isTTY.stderr;
  let current: string | undefined;
  let frame = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  const draw = () => io.stderr(`\r\x1b[K${FRAMES[frame++ % FRAMES.length]} ${current}`);
  return {
    line(m) {
      if (quiet) return;
      if (!tty) {
        io.stderr(`  ${m}\n`);
        return;
      }
      current = m;
      draw();
      if (!timer) {
        timer = setInterval(draw, 100);
        timer.unref?.();
      }
    },
    done() {
      if (timer) clearInterval(timer);
      timer = undefined;
      if (current !== undefined) io.stderr(`\r\x1b[K  ${current}\n`);
      current = undefined;
    },
  };
}
