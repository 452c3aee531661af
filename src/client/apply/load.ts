/**
 * The first half of `dstack apply` / `delete`: find the configuration (discovery),
 * read it (file or stdin), parse it, lay `-p` over its ports, and resolve its env
 * with `-e` and the caller's environment.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { type ParsedConfiguration, parseConfiguration, type RunConfiguration } from "../../core/dstack-yml/configuration.ts";
import { discoverConfiguration, displayPath } from "../../core/dstack-yml/discovery.ts";
import { resolveEnv } from "../../core/dstack-yml/forms/env.ts";
import { GrammarError } from "../../core/dstack-yml/forms/grammar-error.ts";
import { mergePorts, parsePortMapping } from "../../core/dstack-yml/forms/ports.ts";
import { UsageError } from "../../core/errors.ts";
import type { Env, Io } from "../../core/io.ts";

export interface LoadedConfiguration extends ParsedConfiguration {
  path: string;
  /** the directory relative `files` resolve from */
  baseDir: string;
  env: Map<string, string>;
}

/** `-p MAPPING …` over the configuration's `ports:` (tasks and dev environments, as dstackai's RunWithPortsConfigurator). */
function withPortOverrides(config: RunConfiguration, specs: readonly string[]): RunConfiguration {
  if (!specs.length) return config;
  if (config.type === "service") {
    throw new UsageError("-p/--port is for tasks and dev environments, as in dstackai: a service publishes its port:", {
      hint: "change port: in the configuration",
    });
  }
  const grammar = <T>(what: string, f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (e instanceof GrammarError)
        throw new UsageError(`${what}: ${e.message}`, { hint: "-p PORT, -p LOCAL:CONTAINER or -p *:CONTAINER" });
      throw e;
    }
  };
  const overrides = specs.map((s) => grammar(`-p/--port ${JSON.stringify(s)}`, () => parsePortMapping(s)));
  return { ...config, ports: grammar("-p/--port", () => mergePorts(config.ports, overrides)) };
}

export async function loadConfiguration(
  o: { file?: string | undefined; yes: boolean; envOverrides: string[]; cwd: string; resolveEnv?: boolean; ports?: readonly string[] },
  io: Io,
  environ: Env,
): Promise<LoadedConfiguration> {
  const src = discoverConfiguration(o.file, o.yes, (n) => existsSync(resolve(o.cwd, n)));
  // The plan shows the path relative to the working dir, as dstackai stores it.
  const shown = src.kind === "file" && isAbsolute(src.path) ? relative(o.cwd, src.path) : undefined;
  const path = shown !== undefined && !shown.startsWith("..") ? shown : displayPath(src);
  let text: string;
  if (src.kind === "stdin") text = await io.readStdin();
  else {
    try {
      text = readFileSync(resolve(o.cwd, src.path), "utf8");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new UsageError(`${src.path}: ${code === "ENOENT" ? "no such file" : (e as Error).message}`);
    }
  }
  const parsed = parseConfiguration(text, path);
  parsed.config = withPortOverrides(parsed.config, o.ports ?? []);
  let env = new Map<string, string>();
  try {
    if (o.resolveEnv !== false) env = resolveEnv(parsed.config.env, o.envOverrides, environ);
  } catch (e) {
    if (e instanceof GrammarError) throw new UsageError(e.message, { hint: "export it, or pass -e KEY=VALUE" });
    throw e;
  }
  return { ...parsed, path, baseDir: src.kind === "stdin" ? o.cwd : dirname(resolve(o.cwd, src.path)), env };
}
