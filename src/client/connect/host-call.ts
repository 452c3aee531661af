/**
 * The `Dstack.*` calls an ssh:// host's own dstack answers (dial-stdio.ts), both ends of their
 * envelope: `{"ok": result}` or `{"failed": {message, exitCode, hint}}`, so that a refusal on the
 * host (a missing allowlist: exit 3, a lock timeout: 75) ends the laptop's command with the
 * same code and next step as it would on the host.
 */
import { DstackError, errorForExitCode } from "../../core/errors.ts";
import type { VmmClient } from "../../core/vmm/client.ts";

interface Failure {
  message: string;
  exitCode: number;
  hint?: string;
}

type Reply<T> = { ok: T } | { failed: Failure };

/** The host's side: the handler's result, or why it failed. */
export async function answer(run: () => Promise<unknown>): Promise<Reply<unknown>> {
  try {
    return { ok: (await run()) ?? null };
  } catch (e) {
    const d = e instanceof DstackError ? e : undefined;
    return { failed: { message: (e as Error).message, exitCode: d?.exitCode ?? 1, ...(d?.hint ? { hint: d.hint } : {}) } };
  }
}

/** The laptop's side: the result, or the host's error with its exit code, naming the host. */
export async function hostCall<T>(host: VmmClient, method: string, body: unknown = {}): Promise<T> {
  const r = await host.call<Reply<T>>(method, body);
  if ("failed" in r) {
    const f = r.failed;
    throw errorForExitCode(`${host.endpoint}: ${f.message}`, f.exitCode, f.hint ? { hint: f.hint } : {});
  }
  return r.ok;
}
