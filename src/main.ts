/**
 * Multi-call entry: the binary is `dstack`, `dstackup` or `dstack-auth`
 * depending on the name it was run as (hard links or symlinks to one file).
 * Run under any other name (e.g. `bun src/main.ts`), the first argument picks
 * the tool: `bun src/main.ts dstackup --help`. The only place that binds the
 * process's streams and environment, and calls process.exit.
 */
import { basename } from "node:path";
import { runTool } from "./cmd/shared/cli.ts";
import type { Io } from "./core/io.ts";
import { knobsFromEnv, setKnobs } from "./core/knobs.ts";
import { nearest } from "./core/text/suggest.ts";
import { refusalOn } from "./core/tool-platforms.ts";
import { isTool, tools } from "./tools.ts";

/**
 * A process stream's write: what it cannot pass on yet it buffers, and `pending` then resolves
 * at its "drain" — awaited before the exit, so a big --json to a slow reader arrives whole.
 */
function drained(stream: NodeJS.WriteStream) {
  const w = {
    pending: undefined as Promise<void> | undefined,
    write(s: string | Uint8Array) {
      if (stream.write(s) || w.pending) return;
      // drained, or the reader went away (EPIPE): nothing more to wait for either way
      w.pending = new Promise((resolve) => {
        const done = () => {
          for (const e of ["drain", "error", "close"]) stream.off(e, done);
          w.pending = undefined;
          resolve();
        };
        for (const e of ["drain", "error", "close"]) stream.on(e, done);
      });
    },
  };
  return w;
}
const out = drained(process.stdout);
const err = drained(process.stderr);

const processIo: Io = {
  stdout: (s) => out.write(s),
  stderr: (s) => err.write(s),
  isTTY: { stdin: process.stdin.isTTY === true, stdout: process.stdout.isTTY === true, stderr: process.stderr.isTTY === true },
  color: process.stdout.isTTY === true && process.env.NO_COLOR === undefined,
  readStdin: () => new Response(Bun.stdin.stream()).text(),
  onSignal(signals, fn) {
    const off = () => {
      for (const s of signals) process.off(s, on);
    };
    const on = () => {
      off();
      fn();
    };
    for (const s of signals) process.on(s, on);
    return off;
  },
  async prompt(question) {
    const { createInterface } = await import("node:readline/promises");
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return await rl.question(question);
    } finally {
      rl.close();
    }
  },
};

async function main(): Promise<number> {
  let name = basename(process.argv0);
  let args = process.argv.slice(2);
  if (!isTool(name)) {
    const first = args[0] ?? "";
    if (isTool(first)) {
      name = first;
      args = args.slice(1);
    } else {
      const known = Object.keys(tools);
      const guess = nearest(first, known);
      processIo.stderr(
        `${basename(process.argv0)}: run as one of ${known.join(", ")} (a link to this binary), or name the tool first: \`${basename(process.argv0)} dstack --help\`` +
          (first && guess ? ` — did you mean "${guess}"?` : "") +
          "\n",
      );
      return 2;
    }
  }
  if (!isTool(name)) return 2;
  setKnobs(knobsFromEnv(process.env, process.geteuid?.() ?? 0));
  const refusal = refusalOn(name, process.platform);
  if (refusal) {
    process.stderr.write(`${name}: ${refusal}\n`);
    return 1;
  }
  const root = await tools[name]();
  return runTool(name, root, args, { io: processIo, env: process.env });
}

const code = await main();
// What is still buffered for a pipe goes out before the exit (a big --json to a slow reader).
while (out.pending || err.pending) await (out.pending ?? err.pending);
process.exit(code);
