/**
 * A run's own output in its CVM's serial console, where the containers' lines
 * carry compose's `SERVICE-N | ` prefix (the simulator writes them the same
 * way): those of the run's service, prefix removed. Everything else on the
 * console (boot, the guest's services) is `dstack logs --diagnose` material.
 */
import { SERVICE } from "./run-compose.ts";

const APP_LINE = new RegExp(`^${SERVICE}(?:[-_]\\d+)?\\s*\\| ?(.*)$`);

/** The run's line without its prefix, or undefined for a console line that is not the run's. */
export function appLine(line: string): string | undefined {
  const m = APP_LINE.exec(line);
  return m ? m[1]! : undefined;
}

/** Every line of the run in `log`, each ending in a newline. */
export function appLines(log: string): string {
  let out = "";
  for (const l of log.split("\n")) {
    const a = appLine(l);
    if (a !== undefined) out += `${a}\n`;
  }
  return out;
}

/** A streaming appLines: feed it chunks, it returns the run's complete lines so far. */
export function runLineFilter(): (chunk: string) => string {
  let buf = "";
  return (chunk) => {
    buf += chunk;
    const end = buf.lastIndexOf("\n");
    if (end < 0) return "";
    const done = buf.slice(0, end);
    buf = buf.slice(end + 1);
    return appLines(done);
  };
}
