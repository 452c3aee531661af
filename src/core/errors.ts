/** Exit codes shared by every tool (the table in README.md). */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  notFound: 3,
  refused: 4,
  lockTimeout: 75,
} as const;

export interface ErrorOptions {
  /** The next command or step the user should take. */
  hint?: string;
  cause?: unknown;
}

/** An error meant for the user: says what failed and why; `hint` says what to do next. Exit 1; the subclasses below say which other code. */
export class DstackError extends Error {
  readonly hint: string | undefined;
  constructor(message: string, opts: ErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "DstackError";
    this.hint = opts.hint;
  }
  /** The code a command that ends with this error exits with. */
  get exitCode(): number {
    return ExitCode.failure;
  }
}

/** Bad command line: unknown flag or command, malformed value. Exit 2. */
export class UsageError extends DstackError {
  constructor(message: string, opts: ErrorOptions = {}) {
    super(message, opts);
    this.name = "UsageError";
  }
  override get exitCode(): number {
    return ExitCode.usage;
  }
}

/** A named thing (VM, app, file, image) does not exist. Exit 3. */
export class NotFoundError extends DstackError {
  constructor(message: string, opts: ErrorOptions = {}) {
    super(message, opts);
    this.name = "NotFoundError";
  }
  override get exitCode(): number {
    return ExitCode.notFound;
  }
}

/** A safety check refused to go on (preflight, fail-closed validation). Exit 4. */
export class RefusedError extends DstackError {
  constructor(message: string, opts: ErrorOptions = {}) {
    super(message, opts);
    this.name = "RefusedError";
  }
  override get exitCode(): number {
    return ExitCode.refused;
  }
}

/** The error class whose exit code is `code` (one that crossed a process boundary: an ssh:// host's answer). */
export function errorForExitCode(message: string, code: number, opts: ErrorOptions = {}): DstackError {
  if (code === ExitCode.usage) return new UsageError(message, opts);
  if (code === ExitCode.notFound) return new NotFoundError(message, opts);
  if (code === ExitCode.refused) return new RefusedError(message, opts);
  return code === ExitCode.failure ? new DstackError(message, opts) : new ExitCodeError(message, code, opts);
}

/** A DstackError with the exit code another process gave it (a lock timeout on the host: 75). */
class ExitCodeError extends DstackError {
  constructor(
    message: string,
    private readonly code: number,
    opts: ErrorOptions,
  ) {
    super(message, opts);
  }
  override get exitCode(): number {
    return this.code;
  }
}

/** Could not take a lock in time. Exit 75 (EX_TEMPFAIL). */
export class LockTimeoutError extends DstackError {
  readonly lockPath: string;
  constructor(lockPath: string, timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms waiting for the lock ${lockPath}`, {
      hint: `another process holds it; see who with \`fuser -v ${lockPath}\` and retry`,
    });
    this.name = "LockTimeoutError";
    this.lockPath = lockPath;
  }
  override get exitCode(): number {
    return ExitCode.lockTimeout;
  }
}
