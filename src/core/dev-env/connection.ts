/**
 * How a client reaches into a dev environment, from what its compose records (pure): the login
 * user (the run's `user`, else root), the working directory the IDE opens (the run's
 * `working_dir`, else the container's as the compose sets it, else the user's home) and the IDE.
 */
import type { RunDescription } from "../dstack-run/run-description.ts";
import { IDES, type Ide } from "../dstack-yml/dev-environment.ts";

export interface DevConnection {
  user: string;
  workingDir: string;
  ide?: Ide;
}

function composeWorkingDir(dockerCompose: string): string | undefined {
  const m = /^ {4}working_dir: (.+)$/m.exec(dockerCompose);
  if (!m) return undefined;
  const v = m[1]!.trim();
  try {
    return v.startsWith('"') ? (JSON.parse(v) as string) : v.replace(/^'|'$/g, "");
  } catch {
    return undefined;
  }
}

export function devConnection(d: RunDescription, dockerCompose: string): DevConnection {
  const c = d.configuration;
  const user = typeof c.user === "string" && c.user !== "" ? c.user.split(":")[0]! : "root";
  const home = user === "root" ? "/root" : `/home/${user}`;
  const given = typeof c.working_dir === "string" ? c.working_dir.replace(/^~(?=\/|$)/, home) : undefined;
  const workingDir = given?.startsWith("/") ? given : (composeWorkingDir(dockerCompose) ?? home);
  const ide = IDES.find((i) => i === c.ide);
  return { user, workingDir, ...(ide ? { ide } : {}) };
}
