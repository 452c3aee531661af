/** --simulate: the container engine that will run the apps (probed by the caller, src/sim/runtime/engine.ts). */
import { describeSimRuntime, NO_ENGINE_HINT, type RuntimeChoice, type SimRuntime } from "../../../core/specs/sim-runtime.ts";
import type { CheckResult } from "./result.ts";

export interface RuntimeFacts {
  choice: RuntimeChoice;
  /** what the choice resolved to; undefined when nobody probed */
  detected: { runtime: SimRuntime; notes: string[]; error?: string | undefined } | undefined;
}

export function checkRuntime(f: RuntimeFacts): CheckResult {
  const d = f.detected;
  if (!d) return { name: "runtime", ok: true, warning: true, detail: `not probed: ${NO_ENGINE_HINT}` };
  if (d.error)
    return {
      name: "runtime",
      ok: false,
      detail: `--runtime ${f.choice}: ${d.error}`,
      fix: "start the engine (or set DOCKER_HOST / CONTAINER_HOST to it), or pass --runtime auto or --runtime none",
    };
  const why = d.notes.length ? ` (${d.notes.join("; ")})` : "";
  if (d.runtime.engine === "none")
    return { name: "runtime", ok: true, warning: f.choice !== "none", detail: `none${why}: ${NO_ENGINE_HINT}` };
  return { name: "runtime", ok: true, detail: describeSimRuntime(d.runtime) };
}
