/**
 * Why `compose up` failed, as the one line of the VM's boot error (what `dstack run` prints):
 * compose's last line of output — its error — and, when the engine lacks images the app needs,
 * that they could not be pulled (the usual cause on a host with no registry in reach).
 */

const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

/** The last line compose wrote (its error), without colour codes; "" when it wrote nothing. */
export function lastComposeLine(output: string): string {
  const lines = output
    .replace(ANSI, "")
    .split(/\r?\n|\r/)
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.at(-1) ?? "";
}

/** The boot error: `missing` are the app's images the engine does not have (after the failed up). */
export function composeFailure(output: string, code: number, missing: string[]): string {
  const last = lastComposeLine(output);
  const why = last || `compose exited with ${code}`;
  if (!missing.length) return `failed to start containers: ${why}`;
  const which = missing.length === 1 ? `image ${missing[0]} is` : `images ${missing.join(", ")} are`;
  return `failed to start containers: ${which} not on this host and could not be pulled: ${why}`;
}
