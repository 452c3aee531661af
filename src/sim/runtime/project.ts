/**
 * One VM, one compose project: `compose up` (with the decrypted env in compose's own
 * environment, its output on the serial log); the rest of the lifecycle goes to the engine
 * by label, as compose itself does it but without its start-up cost (compose v1 is Python,
 * ~1 s a call): kill (StopVm is a hard power-off), stop (ShutdownVm: SIGTERM, SIGKILL after
 * 10 s), remove (RemoveVm, destroy --purge: containers, networks and volumes).
 * Tools run with argv arrays and the fixed PATH (engineEnv).
 */
import { closeSync, openSync } from "node:fs";
import type { SimRuntime } from "../../core/specs/sim-runtime.ts";
import { runTool } from "../../host/runner.ts";
import { engineEnv } from "./engine.ts";

export interface Project {
  rt: SimRuntime;
  /** the compose project name (one per VM) */
  name: string;
  /** the derived compose file */
  file: string;
  /** compose's working dir (no .env of anyone's in it) */
  dir: string;
}

const argv = (p: Project, ...args: string[]) => [...p.rt.compose, "-p", p.name, "-f", p.file, ...args];

/**
 * `up -d --remove-orphans --build` as the guest's app-compose.sh runs it; stdout and stderr
 * append to `logPath`. `env` holds the decrypted variables: compose interpolates them.
 * Resolves to compose's exit code.
 */
export async function composeUp(p: Project, env: Record<string, string>, logPath: string): Promise<number> {
  const fd = openSync(logPath, "a");
  try {
    const proc = Bun.spawn(argv(p, "up", "-d", "--remove-orphans", "--build"), {
      cwd: p.dir,
      env: engineEnv(p.rt, env),
      stdin: "ignore",
      stdout: fd,
      stderr: fd,
      timeout: 15 * 60_000,
    });
    return await proc.exited;
  } catch {
    return 127; // the compose program could not be started
  } finally {
    closeSync(fd);
  }
}

async function engine(rt: SimRuntime, ...args: string[]) {
  return await runTool([rt.client, ...args], { env: engineEnv(rt), path: engineEnv(rt).PATH, timeoutMs: 120_000 });
}

const lines = (s: string) =>
  s
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);

export interface ContainerRef {
  id: string;
  name: string;
  running: boolean;
  /** the value of the label asked for (containersWith's `show`), else "" */
  label: string;
}

/** The containers carrying `label` (k=v), running or not, with the value of label `show`. */
export async function containersWith(rt: SimRuntime, label: string, show?: string): Promise<ContainerRef[]> {
  const format = `{{.ID}}\t{{.Names}}\t{{.State}}${show ? `\t{{.Label ${JSON.stringify(show)}}}` : ""}`;
  const r = await engine(rt, "ps", "-a", "--filter", `label=${label}`, "--format", format);
  if (r.code !== 0) throw new Error(`${rt.engine} ps: ${r.stderr.trim() || `exit ${r.code}`}`);
  return lines(r.stdout).map((l) => {
    const [id = "", name = "", state = "", value = ""] = l.split("\t");
    return { id, name, running: state === "running", label: value };
  });
}

/** Of `images`, those the engine does not have (`image inspect` fails). */
export async function missingImages(rt: SimRuntime, images: string[]): Promise<string[]> {
  const found = await Promise.all(images.map(async (i) => (await engine(rt, "image", "inspect", "--format", "{{.Id}}", i)).code === 0));
  return images.filter((_, k) => !found[k]);
}

/** Kill (SIGKILL) or stop (SIGTERM, then SIGKILL after 10 s) the running containers carrying `label`. */
export async function haltAllWith(rt: SimRuntime, label: string, how: "kill" | "stop"): Promise<string | undefined> {
  const ids = (await containersWith(rt, label)).filter((c) => c.running).map((c) => c.id);
  if (!ids.length) return undefined;
  const r = await engine(rt, ...(how === "kill" ? ["kill"] : ["stop", "-t", "10"]), ...ids);
  return r.code === 0 ? undefined : r.stderr.trim() || `exit ${r.code}`;
}

/** Remove every container, network and volume carrying `label`; what could not be removed, as text. */
export async function removeAllWith(rt: SimRuntime, label: string): Promise<string[]> {
  const problems: string[] = [];
  const ids = (await containersWith(rt, label)).map((c) => c.id);
  if (ids.length) {
    const r = await engine(rt, "rm", "-f", "-v", ...ids);
    if (r.code !== 0) problems.push(`containers: ${r.stderr.trim()}`);
  }
  for (const kind of ["network", "volume"] as const) {
    const ls = await engine(rt, kind, "ls", "-q", "--filter", `label=${label}`);
    const found = lines(ls.stdout);
    if (ls.code !== 0) problems.push(`${kind}s: ${ls.stderr.trim()}`);
    else if (found.length) {
      const r = await engine(rt, kind, "rm", ...found);
      if (r.code !== 0) problems.push(`${kind}s: ${r.stderr.trim()}`);
    }
  }
  return problems;
}
