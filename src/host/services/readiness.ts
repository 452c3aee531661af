/** Waiting for the daemons to answer, with progress and a pointer to their logs on timeout. */
import { DstackError } from "../../core/errors.ts";
import type { Progress } from "../../core/progress.ts";
import { connectVmm } from "../../core/vmm/client.ts";

async function poll<T>(
  what: string,
  timeoutMs: number,
  p: Progress,
  fn: () => Promise<T | undefined>,
): Promise<{ value: T | undefined; lastError: string }> {
  const deadline = performance.now() + timeoutMs;
  let lastError = "";
  let announced = false;
  const t0 = performance.now();
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return { value: v, lastError };
    } catch (e) {
      lastError = e instanceof Error ? e.message : String(e);
    }
    if (performance.now() >= deadline) return { value: undefined, lastError };
    if (!announced && performance.now() - t0 > 1000) {
      p.step(`waiting for ${what} …`);
      announced = true;
    }
    await Bun.sleep(100);
  }
}

export async function authAnswers(port: number): Promise<Record<string, unknown> | undefined> {
  const r = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) });
  if (!r.ok) throw new Error(`GET / answered ${r.status}`);
  return (await r.json()) as Record<string, unknown>;
}

export async function waitForAuth(port: number, timeoutMs: number, logHint: string, p: Progress): Promise<void> {
  const { value, lastError } = await poll(`the auth webhook on 127.0.0.1:${port}`, timeoutMs, p, () => authAnswers(port));
  if (!value)
    throw new DstackError(`the auth webhook did not answer on 127.0.0.1:${port} within ${Math.round(timeoutMs / 1000)} s (${lastError})`, {
      hint: logHint,
    });
  p.ok(`auth webhook answers on http://127.0.0.1:${port}/`);
}

export async function waitForVmm(url: string, token: string, timeoutMs: number, logHint: string, p: Progress): Promise<void> {
  const { value, lastError } = await poll(`the VMM at ${url}`, timeoutMs, p, async () => {
    const c = await connectVmm({ host: url, token, timeoutMs: 2000 });
    try {
      const info = await c.status({ brief: true });
      return info;
    } finally {
      c.close();
    }
  });
  if (!value)
    throw new DstackError(`the VMM did not answer at ${url} within ${Math.round(timeoutMs / 1000)} s (${lastError})`, { hint: logHint });
  p.ok(`VMM answers at ${url}`);
}
