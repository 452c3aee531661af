/** Progress on stderr while the client waits (deploy, boot): plain lines, or on a TTY one spinner line rewritten in place. */
import type { Io } from "../core/io.ts";

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/** Lines, or one spinner line on a TTY; nothing when quiet. `done` ends the spinner line. */
export function progressLine(io: Io, quiet: boolean): { line: (m: string) => void; done: () => void } {
  const tty = io.isTTY.stderr;
  let current: string | undefined;
  let frame = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  const draw = () => io.stderr(`\r\x1b[K${FRAMES[frame++ % FRAMES.length]} ${current}`);
  return {
    line(m) {
      if (quiet) return;
      if (!tty) {
        io.stderr(`  ${m}\n`);
        return;
      }
      current = m;
      draw();
      if (!timer) {
        timer = setInterval(draw, 100);
        timer.unref?.();
      }
    },
    done() {
      if (timer) clearInterval(timer);
      timer = undefined;
      if (current !== undefined) io.stderr(`\r\x1b[K  ${current}\n`);
      current = undefined;
    },
  };
}
