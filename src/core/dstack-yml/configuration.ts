/**
 * A `.dstack.yml` text → the run configuration it describes, as dstackai parses
 * it (`parse_apply_configuration`): YAML 1.1, dispatch on `type`, every key
 * checked. Errors carry `FILE:LINE: path`; all of them are reported at once.
 * Fleets, volumes, gateways and presets are not runs on a confidential host yet.
 */
import { DEV_ENVIRONMENT_KEYS, type DevEnvironmentConfiguration, devEnvironmentDefaults } from "./dev-environment.ts";
import { modelProbe } from "./forms/probes.ts";
import type { RunConfigurationBase } from "./run-config.ts";
import { SERVICE_KEYS, type ServiceConfiguration, serviceDefaults } from "./service.ts";
import { TASK_KEYS, type TaskConfiguration, taskDefaults } from "./task.ts";
import { ConfigurationError, Issues, type LocatedIssue, locate } from "./yaml/issues.ts";
import { applyKeys, type KeyTable } from "./yaml/key-table.ts";
import { isObj } from "./yaml/values.ts";
import { loadYaml11, YamlSyntaxError } from "./yaml/yaml11.ts";

export type RunConfiguration = TaskConfiguration | ServiceConfiguration | DevEnvironmentConfiguration;

export const CONFIGURATION_TYPES = ["dev-environment", "task", "service", "fleet", "gateway", "volume", "preset"] as const;
const NOT_YET = ["fleet", "gateway", "volume", "preset"];

export interface ParsedConfiguration {
  config: RunConfiguration;
  warnings: LocatedIssue[];
}

function checkCommon(raw: Record<string, unknown>, c: RunConfigurationBase, issues: Issues): void {
  if (raw.image != null && raw.python != null) issues.error(["python"], "image and python are mutually exclusive fields");
  if (c.cloudOnly.length) {
    issues.warn(
      [c.cloudOnly[0]!],
      `${c.cloudOnly.join(", ")}: only place work in a cloud; accepted, without effect on a confidential host`,
    );
  }
}

function checkTask(raw: Record<string, unknown>, c: TaskConfiguration | ServiceConfiguration, issues: Issues): void {
  if (c.commands.length === 0 && raw.image == null) issues.error(["commands"], "Either commands or image must be set");
}

function checkService(raw: Record<string, unknown>, c: ServiceConfiguration, issues: Issues): void {
  if (raw.port == null) issues.error(["port"], "Field required (the container port the service listens on)");
  if (c.probes === undefined && c.model) c.probes = [modelProbe(c.model.name, c.model.prefix)];
  if (c.authDefaulted && raw.port != null) {
    issues.warn(
      ["port"],
      "auth needs a gateway, which a confidential host has not: the service is published without dstack's token check (set auth: false to say so)",
    );
  }
}

function checkDevEnvironment(c: DevEnvironmentConfiguration, issues: Issues): void {
  if (c.version !== undefined && c.ide === undefined) issues.error(["version"], "version requires ide to be set");
  if (c.version !== undefined && c.ide === "windsurf" && !/^.+@[a-f0-9]+$/.test(c.version)) {
    issues.error(["version"], "windsurf versions look like VERSION@COMMIT");
  }
}

/** Parse `text` (the file's contents; `file` names it in messages). Throws ConfigurationError. */
export function parseConfiguration(text: string, file: string): ParsedConfiguration {
  let loaded: ReturnType<typeof loadYaml11>;
  try {
    loaded = loadYaml11(text);
  } catch (e) {
    if (e instanceof YamlSyntaxError) throw new ConfigurationError([{ file, line: e.line, path: "(yaml)", message: e.message }]);
    throw e;
  }
  const issues = new Issues();
  const fail = (): never => {
    throw new ConfigurationError(locate(file, loaded.lineOf, issues.errors));
  };
  const raw = loaded.value;
  if (!isObj(raw)) {
    issues.error(
      [],
      raw === null ? "the configuration is empty: it needs at least `type:`" : "the configuration must be a mapping of keys",
    );
    fail();
  }
  const r = raw as Record<string, unknown>;
  const type = r.type;
  if (type === undefined || type === null) issues.error([], `Field required: type (one of ${CONFIGURATION_TYPES.join(", ")})`);
  else if (typeof type !== "string" || !(CONFIGURATION_TYPES as readonly string[]).includes(type)) {
    issues.error(
      ["type"],
      `Input tag ${JSON.stringify(type)} does not match any of the expected tags: ${CONFIGURATION_TYPES.map((t) => `'${t}'`).join(", ")}`,
    );
  } else if (NOT_YET.includes(type)) {
    issues.error(
      ["type"],
      `type: ${type} is not on a confidential host yet: \`dstack apply\` runs tasks and services here (each run is one CVM)`,
    );
  }
  if (issues.errors.length) fail();
  let config: RunConfiguration;
  if (type === "task") {
    const c = taskDefaults();
    applyKeys(r, [], issues, TASK_KEYS, c);
    checkTask(r, c, issues);
    config = c;
  } else if (type === "service") {
    const c = serviceDefaults();
    applyKeys(r, [], issues, SERVICE_KEYS as KeyTable<ServiceConfiguration>, c);
    checkTask(r, c, issues);
    checkService(r, c, issues);
    config = c;
  } else {
    const c = devEnvironmentDefaults();
    applyKeys(r, [], issues, DEV_ENVIRONMENT_KEYS, c);
    checkDevEnvironment(c, issues);
    config = c;
  }
  checkCommon(r, config, issues);
  if (issues.errors.length) fail();
  return { config, warnings: locate(file, loaded.lineOf, issues.warnings) };
}
