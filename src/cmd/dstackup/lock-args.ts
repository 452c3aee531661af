import type { Io } from "../../core/io.ts";
import type { Layout } from "../../core/layout.ts";
import { LOCK_WAIT_MS, withLayoutLock } from "../../host/install/lock.ts";

/** For the commands that change the layout: they hold its lock for their whole run. */
export const lockArgs = {
  wait: {
    type: "boolean",
    description: `If another dstackup command is changing this install, wait for it (default: give up after ${LOCK_WAIT_MS / 1000} s, exit 75)`,
  },
} as const;

/** Run `fn` holding the layout's lock, saying so when another command holds it. */
export function locked<T>(layout: Layout, args: { wait?: boolean | undefined; quiet?: boolean | undefined }, io: Io, fn: () => Promise<T>) {
  return withLayoutLock(layout, fn, {
    wait: args.wait === true,
    onWait: (holder) => {
      if (args.quiet !== true) {
        io.stderr(
          `waiting${args.wait ? "" : ` up to ${LOCK_WAIT_MS / 1000} s`} for the install lock${holder ? ` (held by ${holder})` : ""}\n`,
        );
      }
    },
  });
}
