/**
 * What the container runs, assembled as dstackai's job configurator does
 * (dstackai/dstack: src/dstack/_internal/server/services/jobs/configurators/base.py):
 * with `commands`, `[shell, "-i", "-c", "c1 && c2 && …"]` (a command ending in
 * `&` becomes `{ c & }`); with `entrypoint`, `shlex.split(entrypoint)` followed
 * by the commands as arguments; with neither, the image's own ENTRYPOINT/CMD.
 * The shell is `/bin/bash` without `image` (the default images have bash), else
 * `/bin/sh`, unless `shell:` says otherwise.
 */
import { shlexSplit } from "./forms/shlex.ts";

export interface ContainerCommand {
  /** replaces the image's ENTRYPOINT (and so its CMD) when set */
  entrypoint?: string[];
  /** replaces the image's CMD when set */
  command?: string[];
}

export function joinCommands(commands: string[]): string {
  return commands.map((c) => (c.trimEnd().endsWith("&") ? `{ ${c} }` : c)).join(" && ");
}

export function containerCommand(c: { commands: string[]; entrypoint?: string; shell?: string; image?: string }): ContainerCommand {
  if (c.entrypoint !== undefined) {
    const ep = shlexSplit(c.entrypoint);
    return c.commands.length ? { entrypoint: ep, command: c.commands } : { entrypoint: ep };
  }
  if (c.commands.length === 0) return {};
  const shell = c.shell ?? (c.image === undefined ? "/bin/bash" : "/bin/sh");
  return { entrypoint: [shell, "-i", "-c", joinCommands(c.commands)] };
}
