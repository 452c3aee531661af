/**
 * dstackai's confirm (`Confirm.ask`, `<question> [y/n]: `): `-y` answers yes; on
 * a terminal the user is asked; otherwise the answer is read from stdin, so
 * `echo n | dstack apply -f X` shows the plan and changes nothing. No answer at
 * all is an error: a change is never made without a yes.
 */
import { UsageError } from "../../core/errors.ts";
import type { Io } from "../../core/io.ts";

export function parseAnswer(text: string): boolean | undefined {
  const a = text.trim().toLowerCase();
  if (a === "y" || a === "yes") return true;
  if (a === "n" || a === "no") return false;
  return undefined;
}

export async function confirm(io: Io, question: string, yes: boolean): Promise<boolean> {
  if (yes) return true;
  const q = `${question} [y/n]: `;
  if (io.isTTY.stdin) {
    for (;;) {
      const a = parseAnswer(await io.prompt(q));
      if (a !== undefined) return a;
      io.stderr("Please enter Y or N\n");
    }
  }
  io.stderr(q);
  const first = (await io.readStdin()).split("\n", 1)[0] ?? "";
  const a = parseAnswer(first);
  io.stderr(`${first.trim()}\n`);
  if (a === undefined) {
    throw new UsageError(
      first.trim() === ""
        ? "no answer on stdin and no -y: nothing was changed"
        : `answer ${JSON.stringify(first.trim())} is neither y nor n: nothing was changed`,
      {
        hint: "answer y or n on stdin (echo y | …), or pass -y",
      },
    );
  }
  return a;
}
