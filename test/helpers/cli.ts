/** Run a tool's command in-process, as the binary would, with an Io that captures what it writes. */

import { runTool } from "../../src/cmd/shared/cli.ts";
import type { Io } from "../../src/core/io.ts";
import { type ToolName, tools } from "../../src/tools.ts";
import type { RunResult } from "./run.ts";

export interface CapturedIo extends Io {
  out: string;
  err: string;
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
    prompt: async (q) => {
      io.err += q;
      return answers.shift() ?? "";
    },
  };
  return io;
}

export interface CliOptions extends IoOptions {
  /** Added to (or, when undefined, removed from) this process's environment. */
  env?: Record<string, string | undefined>;
}

/** `tool args…` in this process: its exit code and what it wrote. */
export async function runCli(tool: ToolName, args: string[], o: CliOptions = {}): Promise<RunResult> {
  const io = captureIo(o);
  const env = { ...process.env, NO_COLOR: "1", ...o.env };
  const code = await runTool(tool, await tools[tool](), args, { io, env });
  return { code, stdout: io.out, stderr: io.err };
}
