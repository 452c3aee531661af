/**
 * `type: service` (dstackai/dstack: src/dstack/_internal/core/models/configurations.py): the shared
 * keys plus `commands`, `port` (required), `model`, `probes`, and the keys that need what a single
 * host does not have (a gateway, a proxy, replicas), refused with why.
 */

import { type AppPort, parseServicePort } from "./forms/ports.ts";
import { type Probe, parseProbes } from "./forms/probes.ts";
import { grammar } from "./resources/resources.ts";
import { BASE_KEYS, baseDefaults, type RunConfigurationBase } from "./run-config.ts";
import { COMMANDS_KEY } from "./task.ts";
import type { KeyTable } from "./yaml/key-table.ts";
import { bool, isObj, str } from "./yaml/values.ts";

export interface ServiceModel {
  name: string;
  format: "openai" | "tgi";
  /** `/v1` for openai */
  prefix: string;
}

export interface ServiceConfiguration extends RunConfigurationBase {
  type: "service";
  /** undefined only while parsing (a missing port is an error) */
  port: AppPort;
  commands: string[];
  model?: ServiceModel;
  /** undefined = the default (a model probe when `model` is set) */
  probes?: Probe[];
  /** `auth` was left at its default (true), which needs a gateway here */
  authDefaulted: boolean;
}

export function serviceDefaults(): ServiceConfiguration {
  return { ...baseDefaults("service"), type: "service", port: { localPort: 80, containerPort: 0 }, commands: [], authDefaulted: true };
}

const GATEWAY_WHY = "a confidential host has no gateway yet: the service is published on a host port of the CVM";

function parseModel(v: unknown, path: readonly (string | number)[], issues: import("./yaml/issues.ts").Issues): ServiceModel | undefined {
  if (typeof v === "string") return { name: v, format: "openai", prefix: "/v1" };
  if (!isObj(v)) return issues.error(path, "Input should be a model name or {type: chat, name, format}");
  issues.unknownKeys(path, v, ["type", "name", "format", "prefix", "chat_template", "eos_token"]);
  const name = str(v.name, [...path, "name"], issues);
  if (v.type !== undefined && v.type !== "chat") issues.error([...path, "type"], "Input should be 'chat'");
  const format = v.format ?? "openai";
  if (format !== "openai" && format !== "tgi") return issues.error([...path, "format"], "Input should be 'openai' or 'tgi'");
  if (name === undefined) return undefined;
  const prefix = format === "openai" ? (v.prefix == null ? "/v1" : String(v.prefix)) : "/";
  return { name, format, prefix };
}

export const SERVICE_KEYS: KeyTable<ServiceConfiguration> = {
  ...(BASE_KEYS as KeyTable<ServiceConfiguration>),
  ...(COMMANDS_KEY as KeyTable<ServiceConfiguration>),
  port(v, path, issues, c) {
    const p = grammar(v, path, issues, parseServicePort);
    if (p) c.port = p;
  },
  model(v, path, issues, c) {
    const m = parseModel(v, path, issues);
    if (m) c.model = m;
  },
  probes(v, path, issues, c) {
    const p = grammar(v, path, issues, parseProbes);
    if (p) c.probes = p;
  },
  gateway(v, path, issues) {
    if (v !== false && v !== null) issues.error(path, `cannot be honoured: ${GATEWAY_WHY}`);
  },
  https(v, path, issues) {
    if (v === true || v === "auto")
      issues.error(path, `cannot be honoured: https needs a gateway, and ${GATEWAY_WHY} (serve TLS from the app, or set https: false)`);
    else if (v !== false && v !== null) issues.error(path, "Input should be a valid boolean or 'auto'");
  },
  auth(v, path, issues, c) {
    const b = bool(v, path, issues);
    if (b === true)
      issues.error(
        path,
        "cannot be honoured: auth needs a gateway to check tokens, and a confidential host has none yet; set auth: false (the app may check its own tokens)",
      );
    if (b === false) c.authDefaulted = false;
  },
  strip_prefix(v, path, issues) {
    bool(v, path, issues);
  },
  replicas(v, path, issues) {
    if (v === 1 || v === "1" || v === "1..1") return;
    issues.error(path, `cannot be honoured: more than one replica needs a gateway to balance them, and ${GATEWAY_WHY}`);
  },
  scaling(_v, path, issues) {
    issues.error(path, `cannot be honoured: autoscaling needs a gateway, and ${GATEWAY_WHY}`);
  },
  rate_limits(_v, path, issues) {
    issues.error(path, `cannot be honoured: rate limits need a gateway, and ${GATEWAY_WHY}`);
  },
  groups(_v, path, issues) {
    issues.error(path, `cannot be honoured: replica groups need a gateway, and ${GATEWAY_WHY}`);
  },
};
