/**
 * External tools (systemctl, docker, git, cargo) run with argv arrays — never a
 * shell — and a PATH of our choosing, never the caller's: SANITISED_PATH, or the
 * toolPath test knob (core/knobs.ts: stand-in programs; never honoured as root),
 * so shell metacharacters and the caller's PATH cannot steer a root install.
 */
import { knobs } from "../core/knobs.ts";

export const SANITISED_PATH = "/usr/sbin:/usr/bin:/sbin:/bin";

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ToolOptions {
  env?: Record<string, string>;
  cwd?: string;
  timeoutMs?: number;
  /** Override the PATH (tests put stand-in programs first). */
  path?: string;
}

/** Run argv; a missing program is code 127, not an exception. */
export async function runTool(argv: string[], opts: ToolOptions = {}): Promise<ToolResult> {
  const env: Record<string, string> = { PATH: opts.path ?? toolPath(), LANG: "C.UTF-8", ...opts.env };
  for (const k of ["HOME", "SUDO_USER", "SUDO_UID", "SUDO_GID"]) {
    if (process.env[k] !== undefined && env[k] === undefined) env[k] = process.env[k]!;
  }
  let proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  try {
    proc = Bun.spawn(argv, {
      env,
      cwd: opts.cwd,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      timeout: opts.timeoutMs ?? 120_000,
    });
  } catch (e) {
    return { code: 127, stdout: "", stderr: `${argv[0]}: ${e instanceof Error ? e.message : e}` };
  }
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

/** The PATH external tools run with. */
export function toolPath(): string {
  return knobs().toolPath ?? SANITISED_PATH;
}

/** The first of `names` found on `path` (default the tools' PATH). */
export function which(name: string, path = toolPath()): string | undefined {
  return Bun.which(name, { PATH: path }) ?? undefined;
}
