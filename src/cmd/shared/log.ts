/**
 * Writing through the seam: `out` for data on stdout; the logger (consola) for everything else,
 * built on the same Io with every level on stderr, so stdout carries only data (tables, --json).
 */
import { type ConsolaInstance, createConsola } from "consola";
import type { Io } from "../../core/io.ts";

/** Write data to stdout (never logs), ending with a newline. */
export function out(io: Io, s: string): void {
  io.stdout(s.endsWith("\n") ? s : `${s}\n`);
}

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
