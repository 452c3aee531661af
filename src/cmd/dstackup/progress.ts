/** Install/destroy progress lines on stderr (stdout stays for the summary or --json). */
import type { Io } from "../../core/io.ts";
import type { Progress } from "../../core/progress.ts";

export function stderrProgress(io: Io, quiet: boolean): Progress {
  const w = (s: string) => {
    if (!quiet) io.stderr(`${s}\n`);
  };
  return {
    step: (m) => w(`  [..]   ${m}`),
    ok: (m) => w(`  [ok]   ${m}`),
    warn: (m) => io.stderr(`  [!]    ${m}\n`),
  };
}
