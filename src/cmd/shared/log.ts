/**
 * The logger (consola) of a command run, built on its Io with every level on stderr, so stdout
 * carries only data (tables, --json; core/io.ts `out`).
 */
import { type ConsolaInstance, createConsola } from "consola";
import type { ClientRun } from "../../client/connect/session.ts";
import type { Env, Io } from "../../core/io.ts";
import { version } from "../../core/version.ts";

/** The logger of one command run; level from -q/-v. */
export function createLogger(io: Io, opts: { quiet?: boolean | undefined; verbose?: boolean | undefined }): ConsolaInstance {
  const stream = { write: (s: string) => io.stderr(s), isTTY: io.isTTY.stderr } as unknown as NodeJS.WriteStream;
  return createConsola({
    stdout: stream,
    stderr: stream,
    level: opts.quiet ? 1 : opts.verbose ? 4 : 3,
    formatOptions: { date: false, colors: io.color },
  });
}

/** What the client's flows need of a command run: its Io and env, warnings to its logger. */
export function clientRun(ctx: { io: Io; env: Env; args: { quiet?: boolean | undefined; verbose?: boolean | undefined } }): ClientRun {
  const log = createLogger(ctx.io, ctx.args);
  return { io: ctx.io, env: ctx.env, warn: (m) => log.warn(m), version };
}
