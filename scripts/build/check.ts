import { join } from "node:path";

/**
 * Runs every name in dir with --version (through `runner`, e.g. qemu-user for another
 * architecture) and returns the answers; throws naming the first that does not answer.
 */
export function checkVersions(dir: string, names: string[], version: string, runner: string[] = []): string[] {
  return names.map((name) => {
    const r = Bun.spawnSync([...runner, join(dir, name), "--version"], { stdout: "pipe", stderr: "pipe" });
    const text = r.stdout.toString().trim();
    if (r.exitCode !== 0 || !text.startsWith(`${name} ${version}`)) {
      throw new Error(`${join(dir, name)} --version did not answer (exit ${r.exitCode}): ${text} ${r.stderr.toString()}`);
    }
    return text;
  });
}
