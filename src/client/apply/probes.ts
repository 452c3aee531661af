/**
 * A service's `probes`, checked by the client through the service's published port (see
 * core/dstack-run/probe-check.ts for why there): `dstack apply` and `attach` wait for them after
 * the boot, each at its `interval`, until `ready_after` passes in a row, saying each change;
 * `dstack ps` checks each once (in `-w`, the passes in a row carry over between redraws).
 */

import {
  type ProbeMark,
  type ProbeRequest,
  probeMark,
  probePassed,
  probeRequest,
  probesCell,
  publishedBase,
} from "../../core/dstack-run/probe-check.ts";
import type { RunDescription } from "../../core/dstack-run/run-description.ts";
import type { Probe } from "../../core/dstack-yml/forms/probes.ts";
import type { VmInfo } from "../../core/vmm/types.ts";
import { describeVm } from "./runs.ts";

export interface ServiceProbes {
  probes: Probe[];
  /** `http://host:port` of the service's published port as this client reaches it; undefined: not from here */
  base: string | undefined;
}

/** The probes of a service run on `vm` (full Status record) and where to send them. */
export function serviceProbes(endpointHost: string, vm: VmInfo, d: RunDescription): ServiceProbes {
  const probes = d.type === "service" && Array.isArray(d.configuration.probes) ? (d.configuration.probes as Probe[]) : [];
  const port = vm.configuration?.ports.find((p) => p.vm_port === d.configuration.port);
  return { probes, base: port ? publishedBase(endpointHost, port.host_address, port.host_port) : undefined };
}

/** One check: a pass or not, and what was seen (the HTTP status, or why there was no answer). */
export async function checkProbe(r: ProbeRequest): Promise<{ ok: boolean; detail: string }> {
  try {
    const res = await fetch(r.url, {
      method: r.method,
      headers: r.headers,
      ...(r.body !== undefined ? { body: r.body } : {}),
      redirect: "manual",
      signal: AbortSignal.timeout(r.timeoutMs),
    });
    await res.body?.cancel();
    return { ok: probePassed(res.status), detail: `HTTP ${res.status}` };
  } catch (e) {
    const err = e as Error & { code?: string };
    if (err.name === "TimeoutError") return { ok: false, detail: `no answer within ${r.timeoutMs / 1000}s` };
    return { ok: false, detail: err.code ?? err.message };
  }
}

/**
 * `ps`: each probe checked once, now — its passes in a row (dstackai's success_streak), or
 * undefined where it cannot be checked from here. `streaks` (key → passes in a row) carries
 * the count between checks of the same probe (ps -w), so ready_after is honoured there.
 */
export async function probeStreaksNow(sp: ServiceProbes, key: string, streaks: Map<string, number>): Promise<(number | undefined)[]> {
  return await Promise.all(
    sp.probes.map(async (p, i) => {
      const req = sp.base === undefined ? undefined : probeRequest(p, sp.base, undefined);
      if (!req) return undefined;
      const k = `${key}#${i}`;
      const streak = (await checkProbe(req)).ok ? (streaks.get(k) ?? 0) + 1 : 0;
      streaks.set(k, streak);
      return streak;
    }),
  );
}

/** The running services among `vms` (full records) → their probes' streaks now (ps). */
export async function runProbes(
  endpointHost: string,
  vms: VmInfo[],
  running: (vm: VmInfo) => boolean,
  streaks: Map<string, number>,
): Promise<Map<string, { probes: Probe[]; streaks: (number | undefined)[] }>> {
  const out = new Map<string, { probes: Probe[]; streaks: (number | undefined)[] }>();
  await Promise.all(
    vms.map(async (vm) => {
      const d = describeVm(vm);
      if (d?.type !== "service" || !running(vm)) return;
      const sp = serviceProbes(endpointHost, vm, d);
      if (sp.probes.length) out.set(vm.id, { probes: sp.probes, streaks: await probeStreaksNow(sp, vm.id, streaks) });
    }),
  );
  return out;
}

export interface ProbeWait {
  /** the run's env after -e (for `${{ env.X }}`); undefined when this client has none */
  env: Map<string, string> | undefined;
  /** resolves when the wait should end (the run ended, Ctrl-C) */
  stop: Promise<unknown>;
  timeoutMs: number;
  /** a line to show (a probe's mark changed) */
  say: (line: string) => void;
}

/**
 * Probe until every probe is ready (`ready_after` passes in a row, one check per `interval`),
 * the wait is stopped, or the time is up. The marks at the end, one per probe.
 */
export async function waitForProbes(sp: ServiceProbes, o: ProbeWait): Promise<ProbeMark[]> {
  let stopped = false;
  const stop = o.stop.then(() => {
    stopped = true;
  });
  const deadline = performance.now() + o.timeoutMs;
  const one = async (p: Probe, i: number): Promise<ProbeMark> => {
    const name = `Probe ${i + 1}/${sp.probes.length} (${p.method.toUpperCase()} ${p.url})`;
    const req = sp.base === undefined ? undefined : probeRequest(p, sp.base, o.env);
    if (!req) return "?";
    let streak = 0;
    let shown = "";
    for (;;) {
      const r = await checkProbe(req);
      if (stopped) return probeMark(streak, p.readyAfter);
      streak = r.ok ? streak + 1 : 0;
      const mark = probeMark(streak, p.readyAfter);
      const line = `${name}: ${mark} ${r.detail}${mark === "~" ? ` (${streak}/${p.readyAfter} passes)` : ""}`;
      if (line !== shown) o.say(line);
      shown = line;
      if (mark === "✓") return mark;
      const wait = Math.min(p.interval * 1000, deadline - performance.now());
      if (wait <= 0) return mark;
      await Promise.race([Bun.sleep(wait), stop]);
      if (stopped) return mark;
    }
  };
  return await Promise.all(sp.probes.map(one));
}

/**
 * While attached to a service: wait for its probes and say when it is up (or that it is not yet
 * when the time is up). `stop` ends the wait (the run ended, Ctrl-C) and resolves once it has.
 */
export function announceWhenUp(sp: ServiceProbes, name: string, o: Omit<ProbeWait, "stop">): { stop: () => Promise<void> } {
  if (!sp.probes.length) return { stop: async () => {} };
  if (sp.base === undefined) {
    o.say(`The probes of ${name} are not checked from here: its port is not reachable from this machine (not forwarded)`);
    return { stop: async () => {} };
  }
  let end = () => {};
  let stopped = false;
  const stop = new Promise<void>((resolve) => {
    end = () => {
      stopped = true;
      resolve();
    };
  });
  o.say(`Waiting for the probes of ${name}...`);
  const done = waitForProbes(sp, { ...o, stop }).then((marks) => {
    if (stopped) return;
    if (marks.every((m) => m === "✓")) o.say(`Service ${name} is up: probes ${probesCell(marks)}`);
    else
      o.say(
        `The probes of ${name} are not ready within ${Math.round(o.timeoutMs / 1000)}s: ${probesCell(marks)} (the run goes on; \`dstack ps -v\` checks them again)`,
      );
  });
  return {
    stop: async () => {
      end();
      await done;
    },
  };
}
