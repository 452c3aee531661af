/**
 * The first half of `dstack apply` / `delete`: find the configuration (discovery),
 * read it (file or stdin), parse it, and resolve its env with `-e` and the
 * caller's environment.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { type ParsedConfiguration, parseConfiguration } from "../../core/dstack-yml/configuration.ts";
import { discoverConfiguration, displayPath } from "../../core/dstack-yml/discovery.ts";
import { resolveEnv } from "../../core/dstack-yml/forms/env.ts";
import { GrammarError } from "../../core/dstack-yml/forms/grammar-error.ts";
import { UsageError } from "../../core/errors.ts";
import type { Env, Io } from "../../core/io.ts";

export interface LoadedConfiguration extends ParsedConfiguration {
  path: string;
  /** the directory relative `files` resolve from */
  baseDir: string;
  env: Map<string, string>;
}

export async function loadConfiguration(
  o: { file?: string | undefined; yes: boolean; envOverrides: string[]; cwd: string; resolveEnv?: boolean },
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
  let env = new Map<string, string>();
  try {
    if (o.resolveEnv !== false) env = resolveEnv(parsed.config.env, o.envOverrides, environ);
  } catch (e) {
    if (e instanceof GrammarError) throw new UsageError(e.message, { hint: "export it, or pass -e KEY=VALUE" });
    throw e;
  }
  return { ...parsed, path, baseDir: src.kind === "stdin" ? o.cwd : dirname(resolve(o.cwd, src.path)), env };
}
