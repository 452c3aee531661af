/**
 * `-w/--watch`: a table asked for again every `intervalMs` until Ctrl-C (or a service's stop), as
 * dstackai's `ps -w` (a Rich Live table, refreshed every 2 s; Ctrl-C ends it, exit 0). On a
 * terminal each table is drawn over the last one; off a terminal nothing is written while it
 * runs and the last table once at the end — what Rich's Live does when stdout is not a terminal.
 * An error while asking ends the watch with that error.
 */
import { type Io, out } from "../../core/io.ts";
import { redrawFrame } from "../../core/text/output.ts";

const HIDE_CURSOR = "\x1b[?25l";
const SHOW_CURSOR = "\x1b[?25h";

export async function watchTable(io: Io, render: () => Promise<string>, intervalMs: number): Promise<void> {
  let stop = () => {};
  const stopped = new Promise<"stop">((resolve) => {
    stop = () => resolve("stop");
  });
  const off = io.onSignal(["SIGINT", "SIGTERM"], stop);
  const tty = io.isTTY.stdout;
  let last: string | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    if (tty) io.stdout(HIDE_CURSOR);
    for (let first = true; ; first = false) {
      const asked = render();
      asked.catch(() => {}); // an answer that comes after Ctrl-C is not waited for
      const table = await Promise.race([asked, stopped]);
      if (table === "stop") break;
      last = table;
      if (tty) io.stdout(redrawFrame(table, first));
      const tick = new Promise<"tick">((resolve) => {
        timer = setTimeout(() => resolve("tick"), intervalMs);
      });
      if ((await Promise.race([tick, stopped])) === "stop") break;
    }
  } finally {
    clearTimeout(timer);
    off();
    if (tty) io.stdout(SHOW_CURSOR);
  }
  if (!tty && last !== undefined) out(io, last);
}
