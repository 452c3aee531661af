/** Run the compiled binary (dist/) or the sources under a tool name, capturing output. */
import { join } from "node:path";

export const ROOT = join(import.meta.dir, "..", "..");
export const DIST = join(ROOT, "dist");

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  stdin?: string;
  timeoutMs?: number;
}

/** Run dist/<tool> with args. */
export async function runBin(tool: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return spawnCapture([join(DIST, tool), ...args], opts);
}

export async function spawnCapture(cmd: string[], opts: RunOptions = {}): Promise<RunResult> {
  const proc = Bun.spawn(cmd, {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, NO_COLOR: "1", ...opts.env } as Record<string, string>,
    stdin: opts.stdin === undefined ? "ignore" : new TextEncoder().encode(opts.stdin),
    stdout: "pipe",
    stderr: "pipe",
    timeout: opts.timeoutMs ?? 60_000,
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}
