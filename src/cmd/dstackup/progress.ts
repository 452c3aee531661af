/** Install/destroy progress lines on stderr (stdout stays for the summary or --json). */
import type { Progress } from "../../core/progress.ts";

export function stderrProgress(quiet: boolean): Progress {
  const w = (s: string) => {
    if (!quiet) process.stderr.write(`${s}\n`);
  };
  return {
    step: (m) => w(`  [..]   ${m}`),
    ok: (m) => w(`  [ok]   ${m}`),
    warn: (m) => process.stderr.write(`  [!]    ${m}\n`),
  };
}
