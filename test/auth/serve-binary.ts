import { join } from "node:path";
import { DIST } from "../helpers/run.ts";

/** The compiled dstack-auth serving `path` on a free port, once it answers GET /; `stderr` may be a file descriptor. */
export async function serveBinary(path: string, opts: { args?: string[]; stderr?: "pipe" | "ignore" | number } = {}) {
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
  const port = probe.port!;
  probe.stop(true);
  const p = Bun.spawn([join(DIST, "dstack-auth"), "--config", path, "--port", String(port), ...(opts.args ?? [])], {
    stdout: "ignore",
    stderr: opts.stderr ?? "ignore",
  });
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/`)).ok) return { p, port, url: `http://127.0.0.1:${port}` };
    } catch {
      await Bun.sleep(30);
    }
  }
  p.kill("SIGKILL");
  throw new Error(`dstack-auth did not answer on port ${port}`);
}
