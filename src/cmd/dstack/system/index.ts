/** `dstack system dial-stdio`: the host's side of `--host ssh://…` (src/client/connect/dial-stdio.ts); an ssh exec channel runs it. */
import { dialStdio } from "../../../client/connect/dial-stdio.ts";
import { version } from "../../../core/version.ts";
import { prefixArgs } from "../../shared/args.ts";
import { defineCommand } from "../../shared/command.ts";

const dial = defineCommand({
  meta: {
    name: "dial-stdio",
    description: "Serve this host's VMM (with its token) and allowlist on stdin/stdout, for a client's --host ssh://",
  },
  args: { ...prefixArgs },
  async run({ args, io, env }) {
    // The one verb whose stdin is a byte stream, not text: the process's own (the Io reads text).
    await dialStdio({ prefix: args.prefix, env, version, stdin: Bun.stdin.stream(), write: (b) => io.stdout(b) });
  },
});

export default defineCommand({
  meta: { name: "system", description: "What a remote client runs on this host over ssh" },
  subCommands: { "dial-stdio": dial },
});
