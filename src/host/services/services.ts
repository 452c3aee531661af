/**
 * The two host daemons (dstack-vmm or dstack-vmm-sim, and dstack-auth) under
 * systemd, or — where systemd is not PID 1 — detached with pidfiles and logs
 * under the run dir. One interface so install, status and destroy treat both alike.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeAtomic } from "../../core/fsutil.ts";
import { daemonArgv, daemonPid, daemonStartedAt, logFileOf, startDaemon, stopDaemon } from "./daemons.ts";
import { rotatedOf } from "./log-file.ts";
import { activeSince, isActive, systemctl, unitDir } from "./systemd.ts";

export type ManagerKind = "systemd" | "detached";

export interface ServiceSpec {
  name: string;
  argv: string[];
  unitText: string;
  cwd: string;
}

export type ServiceAction = "started" | "restarted" | "unchanged";

export interface ServiceState {
  name: string;
  active: boolean;
  /** pid (detached) or MainPID (systemd), when known */
  pid?: number;
  /** when the current run started (detached: ISO time; systemd: monotonic µs) */
  since?: string;
  /** where to look when it misbehaves */
  logHint: string;
}

export class Services {
  constructor(
    readonly kind: ManagerKind,
    readonly runDir: string,
  ) {}

  unitPath(name: string): string {
    return join(unitDir(), `${name}.service`);
  }

  logHint(name: string): string {
    return this.kind === "systemd" ? `journalctl -u ${name}.service -n 50` : `tail -n 50 ${logFileOf(this.runDir, name)}`;
  }

  /** Would ensure() change anything? (for --dry-run and no-change detection) */
  async wouldChange(spec: ServiceSpec, restart: boolean): Promise<ServiceAction> {
    const st = await this.state(spec.name);
    if (!st.active) return "started";
    if (restart) return "restarted";
    if (this.kind === "systemd") {
      const cur = existsSync(this.unitPath(spec.name)) ? readFileSync(this.unitPath(spec.name), "utf8") : undefined;
      return cur === spec.unitText ? "unchanged" : "restarted";
    }
    const argv = daemonArgv(this.runDir, spec.name);
    return JSON.stringify(argv) === JSON.stringify(spec.argv) ? "unchanged" : "restarted";
  }

  /** Make the service run `spec`; restart it when asked or when its definition changed. */
  async ensure(spec: ServiceSpec, restart: boolean): Promise<ServiceAction> {
    const action = await this.wouldChange(spec, restart);
    if (this.kind === "systemd") {
      const path = this.unitPath(spec.name);
      const cur = existsSync(path) ? readFileSync(path, "utf8") : undefined;
      if (cur !== spec.unitText) {
        writeAtomic(path, spec.unitText, { mode: 0o644 });
        await systemctl("daemon-reload");
      }
      if (action === "started") {
        const r = await systemctl("enable", "--now", `${spec.name}.service`);
        if (r.code !== 0)
          throw new Error(`failed to enable+start ${spec.name}.service: ${r.stderr.trim()} (see ${this.logHint(spec.name)})`);
      } else if (action === "restarted") {
        const r = await systemctl("restart", `${spec.name}.service`);
        if (r.code !== 0) throw new Error(`failed to restart ${spec.name}.service: ${r.stderr.trim()} (see ${this.logHint(spec.name)})`);
      }
      return action;
    }
    if (action === "unchanged") return action;
    await stopDaemon(this.runDir, spec.name);
    startDaemon({ name: spec.name, argv: spec.argv, runDir: this.runDir, cwd: spec.cwd });
    return action;
  }

  async state(name: string): Promise<ServiceState> {
    if (this.kind === "systemd") {
      const active = await isActive(name);
      const st: ServiceState = { name, active, logHint: this.logHint(name) };
      if (active) {
        st.since = await activeSince(name);
        const pid = Number((await systemctl("show", "-p", "MainPID", "--value", `${name}.service`)).stdout.trim());
        if (pid > 0) st.pid = pid;
      }
      return st;
    }
    const pid = daemonPid(this.runDir, name);
    const st: ServiceState = { name, active: pid !== undefined, logHint: this.logHint(name) };
    if (pid !== undefined) {
      st.pid = pid;
      const since = daemonStartedAt(this.runDir, name);
      if (since) st.since = since;
    }
    return st;
  }

  /** Stop the service and remove its unit/pidfile. Returns whether anything was there. */
  async remove(name: string): Promise<boolean> {
    if (this.kind === "systemd") {
      const path = this.unitPath(name);
      const had = existsSync(path) || (await isActive(name));
      await systemctl("disable", "--now", `${name}.service`);
      rmSync(path, { force: true });
      await systemctl("daemon-reload");
      return had;
    }
    const was = await stopDaemon(this.runDir, name);
    const log = logFileOf(this.runDir, name);
    for (const f of [log, ...rotatedOf(log)]) rmSync(f, { force: true });
    return was;
  }
}
