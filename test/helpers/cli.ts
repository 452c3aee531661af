/** Run a tool's command in-process, as the binary would, with an Io that captures what it writes. */

import { runTool } from "../../src/cmd/shared/cli.ts";
import type { Io, Signal } from "../../src/core/io.ts";
import { type Knobs, setKnobs } from "../../src/core/knobs.ts";
import { type ToolName, tools } from "../../src/tools.ts";
import type { RunResult } from "./run.ts";

export interface CapturedIo extends Io {
  out: string;
  err: string;
  /** Deliver a signal to the command (as Ctrl-C or a service stop would). */
  signal(s: Signal): void;
}

export interface IoOptions {
  /** What stdin holds (`dstack-auth decide`). */
  stdin?: string;
  /** Pretend every stream is a terminal. */
  tty?: boolean;
  /** Answers to prompts, in order. */
  answers?: string[];
}

export function captureIo(o: IoOptions = {}): CapturedIo {
  const dec = new TextDecoder();
  const answers = [...(o.answers ?? [])];
  const listeners = new Set<{ signals: readonly Signal[]; fn: () => void }>();
  const io: CapturedIo = {
    out: "",
    err: "",
    stdout: (s) => {
      io.out += typeof s === "string" ? s : dec.decode(s, { stream: true });
    },
    stderr: (s) => {
      io.err += s;
    },
    isTTY: { stdin: o.tty === true, stdout: o.tty === true, stderr: o.tty === true },
    color: false,
    readStdin: async () => o.stdin ?? "",
    onSignal: (signals, fn) => {
      const l = { signals, fn };
      listeners.add(l);
      return () => void listeners.delete(l);
    },
    signal: (s) => {
      for (const l of [...listeners])
        if (l.signals.includes(s)) {
          listeners.delete(l);
          l.fn();
        }
    },
    prompt: async (q) => {
      io.err += q;
      return answers.shift() ?? "";
    },
  };
  return io;
}

export interface CliOptions extends IoOptions {
  /** The Io to run with (to signal the command while it runs); a fresh capture by default. */
  io?: CapturedIo;
  /** The command's environment: this process's, with these added (or, when undefined, removed). */
  env?: Record<string, string | undefined>;
  /** Test knobs for this run (stand-in programs, a fake cpuinfo…); none by default. */
  knobs?: Knobs;
}

/** `tool args…` in this process: its exit code and what it wrote. */
export async function runCli(tool: ToolName, args: string[], o: CliOptions = {}): Promise<RunResult> {
  const io = o.io ?? captureIo(o);
  const env = { ...process.env, NO_COLOR: "1", ...o.env };
  setKnobs(o.knobs ?? {});
  try {
    const code = await runTool(tool, await tools[tool](), args, { io, env });
    return { code, stdout: io.out, stderr: io.err };
  } finally {
    setKnobs({});
  }
}
