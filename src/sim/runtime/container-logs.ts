/**
 * The containers' stdout and stderr on the VM's serial log, each line prefixed with its
 * container (`web | …`, as compose prints them), from the moment this boot started them:
 * one `logs -f --since` per container, started again while the VM runs (a container that
 * restarts ends its follower), with a growing pause for a container that stays down.
 */
import type { SimRuntime } from "../../core/specs/sim-runtime.ts";
import { engineEnv } from "./engine.ts";
import type { ContainerRef } from "./project.ts";

export interface LogFollower {
  close(): void;
}

async function pump(stream: ReadableStream<Uint8Array>, prefix: string, write: (line: string) => void): Promise<void> {
  const dec = new TextDecoder();
  let buf = "";
  for await (const chunk of stream) {
    buf += dec.decode(chunk, { stream: true });
    let i = buf.indexOf("\n");
    while (i >= 0) {
      write(`${prefix}${buf.slice(0, i)}`);
      buf = buf.slice(i + 1);
      i = buf.indexOf("\n");
    }
  }
  if (buf) write(`${prefix}${buf}`);
}

/**
 * Follow `containers` from `sinceMs`; `write` appends one line to the serial log.
 * `project` is stripped from the container names shown.
 */
export function followContainers(
  rt: SimRuntime,
  containers: ContainerRef[],
  project: string,
  sinceMs: number,
  write: (line: string) => void,
): LogFollower {
  let closed = false;
  const procs = new Set<ReturnType<typeof Bun.spawn>>();
  const width = Math.max(0, ...containers.map((c) => c.name.length - project.length - 1));
  const follow = (c: ContainerRef, since: number, delay = 1000) => {
    if (closed) return;
    const shown = (c.name.startsWith(`${project}_`) || c.name.startsWith(`${project}-`) ? c.name.slice(project.length + 1) : c.name).padEnd(
      width,
    );
    const proc = Bun.spawn([rt.client, "logs", "-f", "--since", (since / 1000).toFixed(3), c.id], {
      env: engineEnv(rt),
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    procs.add(proc);
    const done = Promise.all([
      pump(proc.stdout as ReadableStream<Uint8Array>, `${shown} | `, write),
      pump(proc.stderr as ReadableStream<Uint8Array>, `${shown} | `, write),
      proc.exited,
    ]);
    const started = Date.now();
    void done.then(() => {
      procs.delete(proc);
      const now = Date.now();
      // a stopped container ends its follower at once: ask again less and less often
      const next = now - started < 2000 ? Math.min(delay * 2, 10_000) : 1000;
      if (!closed) setTimeout(() => follow(c, now, next), delay);
    });
  };
  for (const c of containers) follow(c, sinceMs);
  return {
    close() {
      closed = true;
      for (const p of procs) p.kill();
      procs.clear();
    },
  };
}
