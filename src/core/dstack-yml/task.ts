/**
 * `type: task` (dstackai/dstack: src/dstack/_internal/core/models/configurations.py): the shared
 * keys plus `ports`, `commands`, `nodes`, `groups`.
 */

import { type AppPort, parsePorts } from "./forms/ports.ts";
import { grammar } from "./resources/resources.ts";
import { BASE_KEYS, baseDefaults, type RunConfigurationBase } from "./run-config.ts";
import type { KeyTable } from "./yaml/key-table.ts";
import { int, strList } from "./yaml/values.ts";

export interface TaskConfiguration extends RunConfigurationBase {
  type: "task";
  ports: AppPort[];
  commands: string[];
}

export function taskDefaults(): TaskConfiguration {
  return { ...baseDefaults("task"), type: "task", ports: [], commands: [] };
}

export const COMMANDS_KEY: KeyTable<{ commands: string[] }> = {
  commands(v, path, issues, c) {
    c.commands = strList(v, path, issues) ?? [];
  },
};

export const TASK_KEYS: KeyTable<TaskConfiguration> = {
  ...(BASE_KEYS as KeyTable<TaskConfiguration>),
  ...(COMMANDS_KEY as KeyTable<TaskConfiguration>),
  ports(v, path, issues, c) {
    c.ports = grammar(v, path, issues, parsePorts) ?? [];
  },
  nodes(v, path, issues) {
    const n = int(v, path, issues, 1);
    if (n !== undefined && n > 1)
      issues.error(path, "cannot be honoured on a confidential host yet: a run is one CVM, so a task runs on one node");
  },
  groups(_v, path, issues) {
    issues.error(path, "cannot be honoured on a confidential host yet: node groups are multi-node, and a run is one CVM");
  },
};
