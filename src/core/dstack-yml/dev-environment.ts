/**
 * `type: dev-environment` (dstackai/dstack: src/dstack/_internal/core/models/configurations.py):
 * the shared keys (no `entrypoint`) plus `ports`, `ide`, `version`, `init`, `inactivity_duration`
 * (what the CVM does with them: src/core/dev-env/).
 */
import { parseDuration } from "./forms/duration.ts";
import { type AppPort, parsePorts } from "./forms/ports.ts";
import { grammar } from "./resources/resources.ts";
import { BASE_KEYS, baseDefaults, type RunConfigurationBase } from "./run-config.ts";
import type { KeyTable } from "./yaml/key-table.ts";
import { picklist, str, strList } from "./yaml/values.ts";

export const IDES = ["vscode", "cursor", "windsurf", "zed"] as const;
export type Ide = (typeof IDES)[number];

export interface DevEnvironmentConfiguration extends RunConfigurationBase {
  type: "dev-environment";
  ports: AppPort[];
  ide?: Ide;
  version?: string;
  init: string[];
  /** seconds; undefined = unlimited */
  inactivityDuration?: number;
}

export function devEnvironmentDefaults(): DevEnvironmentConfiguration {
  return { ...baseDefaults("dev-environment"), type: "dev-environment", ports: [], init: [] };
}

export const DEV_ENVIRONMENT_KEYS: KeyTable<DevEnvironmentConfiguration> = {
  ...(BASE_KEYS as KeyTable<DevEnvironmentConfiguration>),
  entrypoint(_v, path, issues) {
    issues.error(path, "entrypoint is not supported for dev environments");
  },
  ports(v, path, issues, c) {
    c.ports = grammar(v, path, issues, parsePorts) ?? [];
  },
  ide(v, path, issues, c) {
    const ide = picklist(v, path, issues, IDES);
    if (ide) c.ide = ide;
  },
  version(v, path, issues, c) {
    const s = str(v, path, issues);
    if (s !== undefined) c.version = s;
  },
  init(v, path, issues, c) {
    c.init = strList(v, path, issues) ?? [];
  },
  inactivity_duration(v, path, issues, c) {
    if (v === false || v === true || v === "off" || v === null) return;
    const s = grammar(v, path, issues, parseDuration);
    if (s !== undefined && s <= 0) issues.error(path, "inactivity_duration must be positive (or off)");
    else if (s !== undefined) c.inactivityDuration = s;
  },
};
