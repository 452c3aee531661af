/**
 * A service's `probes` as the client checks them (pure parts): the HTTP request of a probe
 * against the service's published port, where that port can be reached from the client,
 * dstackai's pass rule (a 2xx answer within `timeout`) and its marks (`✓` ready: `ready_after`
 * passes in a row, `~` passing but fewer, `×` failing), and the PROBES cell of `ps`.
 *
 * The client probes through the mapped host port — the path the printed URL takes, so a pass
 * says the service answers there, mapping included — with nothing needed in the user's image.
 */

import { interpolate } from "../dstack-yml/forms/interpolate.ts";
import type { Probe } from "../dstack-yml/forms/probes.ts";

export interface ProbeRequest {
  url: string;
  /** upper case, as HTTP says it */
  method: string;
  headers: [string, string][];
  body?: string;
  timeoutMs: number;
}

/**
 * The request of `p` against `base` (`http://host:port`), `${{ env.X }}` filled from the run's
 * env; undefined when it names env values `env` has not (undefined: the caller has none — only
 * the applying client and the CVM hold them, sealed).
 */
export function probeRequest(p: Probe, base: string, env: Map<string, string> | undefined): ProbeRequest | undefined {
  const vars = Object.fromEntries([...(env ?? [])].map(([k, v]) => [`env.${k}`, v]));
  try {
    const fill = (s: string) => interpolate(s, vars);
    const r: ProbeRequest = {
      url: `${base.replace(/\/$/, "")}${fill(p.url)}`,
      method: p.method.toUpperCase(),
      headers: p.headers.map((h) => [h.name, fill(h.value)]),
      timeoutMs: p.timeout * 1000,
    };
    if (p.body !== undefined) r.body = fill(p.body);
    return r;
  } catch {
    return undefined;
  }
}

/** dstackai's rule: the probe passes on a 2xx answer (its httpx client's raise_for_status; redirects are not followed). */
export const probePassed = (status: number): boolean => status >= 200 && status < 300;

export type ProbeMark = "✓" | "~" | "×" | "?";

/** A probe's mark from its passes in a row (0 after a failure); `?`: it could not be checked from here. */
export function probeMark(streak: number | undefined, readyAfter: number): ProbeMark {
  if (streak === undefined) return "?";
  if (streak === 0) return "×";
  return streak >= readyAfter ? "✓" : "~";
}

/** The PROBES cell: one mark per probe, `-` without probes. */
export const probesCell = (marks: ProbeMark[]): string => (marks.length ? marks.join("") : "-");

/**
 * Where the client reaches a port the VMM published on `hostAddress:hostPort`: on this machine
 * when the VMM is (a unix socket or a loopback URL); on the VMM's host when it is remote over
 * HTTP(S) and the port is not bound to that host's loopback; undefined otherwise (an ssh://
 * host: its ports are not forwarded here).
 */
export function publishedBase(endpointHost: string, hostAddress: string, hostPort: number): string | undefined {
  const local = endpointHost.startsWith("unix:") || /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:|\/|$)/.test(endpointHost);
  const any = hostAddress === "" || hostAddress === "0.0.0.0" || hostAddress === "::";
  const loopback = /^127\./.test(hostAddress) || hostAddress === "::1" || hostAddress === "localhost";
  const bracket = (h: string) => (h.includes(":") ? `[${h}]` : h);
  if (local) return `http://${any ? "127.0.0.1" : bracket(hostAddress)}:${hostPort}`;
  if (!/^https?:\/\//.test(endpointHost) || loopback) return undefined;
  return `http://${any ? new URL(endpointHost).hostname : bracket(hostAddress)}:${hostPort}`;
}
