/**
 * The one logger: consola with every level routed to stderr, so stdout carries
 * only data (tables, --json). Level from -q/-v.
 */
import { type ConsolaInstance, createConsola } from "consola";

export const log: ConsolaInstance = createConsola({
  stdout: process.stderr,
  stderr: process.stderr,
  level: 3,
  formatOptions: { date: false },
});

export function setVerbosity(opts: { quiet?: boolean | undefined; verbose?: boolean | undefined }): void {
  log.level = opts.quiet ? 1 : opts.verbose ? 4 : 3;
}

/** Write data to stdout (never logs). */
export function out(s: string): void {
  process.stdout.write(s.endsWith("\n") ? s : `${s}\n`);
}
