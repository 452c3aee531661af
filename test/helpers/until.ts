/** Wait for what a test watches (output so far, a file) instead of sleeping a guess: true once `ok()` holds, false after `ms`. */
export async function until(ok: () => boolean, ms = 10_000, everyMs = 10): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (!ok()) {
    if (performance.now() > deadline) return false;
    await Bun.sleep(everyMs);
  }
  return true;
}
