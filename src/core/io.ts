/**
 * The output seam: every command reads and writes through one of these. src/main.ts binds the
 * process's streams; tests pass one that captures, and run commands in-process.
 */
export interface Io {
  /** Data: tables, `--json`, logs asked for. Nothing else. */
  stdout(s: string | Uint8Array): void;
  /** Everything for the human: progress, warnings, errors. */
  stderr(s: string): void;
  /** Which streams are terminals (spinners, prompts). */
  isTTY: { stdin: boolean; stdout: boolean; stderr: boolean };
  /** Colour in help text. */
  color: boolean;
  /** All of stdin, as text. */
  readStdin(): Promise<string>;
  /** Ask on stderr; the answer line from stdin. Only when stdin is a terminal. */
  prompt(question: string): Promise<string>;
  /** Call `fn` once, on the first of `signals` to arrive; the function returned stops listening. */
  onSignal(signals: readonly Signal[], fn: () => void): () => void;
}

/** The signals a command waits for: Ctrl-C, and the service manager's stop. */
export type Signal = "SIGINT" | "SIGTERM";

/** The environment a command reads (DSTACK_HOST, `-e KEY` values), passed in so that a command run in-process sees the one it is given. */
export type Env = Readonly<Record<string, string | undefined>>;

/** Data on stdout (never logs), ending with a newline. */
export function out(io: Io, s: string): void {
  io.stdout(s.endsWith("\n") ? s : `${s}\n`);
}
