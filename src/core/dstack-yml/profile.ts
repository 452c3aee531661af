/**
 * dstackai's ProfileParams on a run (dstackai/dstack:
 * src/dstack/_internal/core/models/profiles.py), as a single confidential host can take them: the
 * keys that only place work in a cloud are accepted and named in one warning (so users' files apply
 * unchanged); `retry`, `max_duration`, `stop_duration` are parsed; keys that would need what a host
 * does not have (a scheduler, GPU metrics) are errors that say why.
 */
import { parseDuration, parseOffDuration } from "./forms/duration.ts";
import { GrammarError } from "./forms/grammar-error.ts";
import { grammar } from "./resources/resources.ts";
import type { KeyTable } from "./yaml/key-table.ts";
import { isObj } from "./yaml/values.ts";

/** Keys that only place work in a cloud: accepted, named in one warning, without effect here. */
export const CLOUD_ONLY_KEYS = [
  "backends",
  "regions",
  "availability_zones",
  "instance_types",
  "reservation",
  "spot_policy",
  "max_price",
  "creation_policy",
  "idle_duration",
  "fleets",
  "backend_options",
  "instances",
  "tags",
] as const;

export type RetryEvent = "no-capacity" | "interruption" | "error";
export const RETRY_EVENTS: readonly RetryEvent[] = ["no-capacity", "interruption", "error"];

export interface RetryPolicy {
  onEvents: RetryEvent[];
  /** seconds */
  duration: number;
}

export interface ProfileSettings {
  retry?: RetryPolicy;
  maxDuration?: number | "off";
  stopDuration?: number | "off";
  priority?: number;
  /** cloud-only keys present in the file */
  cloudOnly: string[];
}

export function parseRetry(v: unknown): RetryPolicy | undefined {
  if (v === false || v === null) return undefined;
  if (v === true) return { onEvents: [...RETRY_EVENTS], duration: 3600 };
  if (!isObj(v)) throw new GrammarError("Input should be a boolean or {on_events, duration}");
  const extra = Object.keys(v).filter((k) => k !== "on_events" && k !== "duration");
  if (extra.length) throw new GrammarError(`unknown key ${extra[0]} (retry has on_events and duration)`);
  let onEvents = [...RETRY_EVENTS];
  if (v.on_events !== undefined) {
    if (!Array.isArray(v.on_events)) throw new GrammarError("on_events: Input should be a valid list");
    if (v.on_events.length === 0) throw new GrammarError("on_events: at least one event is required");
    for (const e of v.on_events) {
      if (!RETRY_EVENTS.includes(e as RetryEvent))
        throw new GrammarError(`on_events: Input should be 'no-capacity', 'interruption' or 'error'`);
    }
    onEvents = v.on_events as RetryEvent[];
  }
  return { onEvents, duration: v.duration == null ? 3600 : parseDuration(v.duration) };
}

export const PROFILE_KEYS: KeyTable<ProfileSettings> = {
  retry(v, path, issues, c) {
    const r = grammar(v, path, issues, parseRetry);
    if (r) c.retry = r;
  },
  max_duration(v, path, issues, c) {
    const d = grammar(v, path, issues, parseOffDuration);
    if (d !== undefined) c.maxDuration = d;
  },
  stop_duration(v, path, issues, c) {
    const d = grammar(v, path, issues, parseOffDuration);
    if (d !== undefined) c.stopDuration = d;
  },
  priority(v, path, issues, c) {
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 100) issues.error(path, "priority is an integer 0..100");
    else c.priority = v;
  },
  utilization_policy(_v, path, issues) {
    issues.error(path, "cannot be honoured on a confidential host yet: the host has no GPU utilization metrics of a CVM to act on");
  },
  schedule(_v, path, issues) {
    issues.error(path, "cannot be honoured on a confidential host yet: there is no scheduler to start the run at its cron times");
  },
  startup_order(v, path, issues) {
    if (!["any", "master-first", "workers-first"].includes(String(v)))
      issues.error(path, "Input should be 'any', 'master-first' or 'workers-first'");
  },
  stop_criteria(v, path, issues) {
    if (!["all-done", "master-done"].includes(String(v))) issues.error(path, "Input should be 'all-done' or 'master-done'");
  },
  ...Object.fromEntries(
    CLOUD_ONLY_KEYS.map((k) => [
      k,
      (_v: unknown, _p: unknown, _i: unknown, c: ProfileSettings) => {
        c.cloudOnly.push(k);
      },
    ]),
  ),
};
