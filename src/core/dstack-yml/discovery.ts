/**
 * Which configuration `dstack apply` / `delete` read (dstackai/dstack:
 * src/dstack/_internal/cli/services/configurators/__init__.py): `-f FILE`; `-f -` is stdin and
 * needs `-y` (no prompt can share stdin with the file); without -f, `.dstack.yml` then
 * `.dstack.yaml` in the working directory.
 */
import { UsageError } from "../errors.ts";

export const DEFAULT_FILES = [".dstack.yml", ".dstack.yaml"] as const;

export type ConfigSource = { kind: "stdin" } | { kind: "file"; path: string };

export function discoverConfiguration(file: string | undefined, yes: boolean, exists: (name: string) => boolean): ConfigSource {
  if (file === "-") {
    if (!yes) throw new UsageError("Cannot read configuration from stdin if -y/--yes is not specified");
    return { kind: "stdin" };
  }
  if (file !== undefined) return { kind: "file", path: file };
  const found = DEFAULT_FILES.find(exists);
  if (!found) {
    throw new UsageError("No configuration file specified via -f and no default .dstack.yml configuration found", {
      hint: "pass -f FILE, or write a .dstack.yml here",
    });
  }
  return { kind: "file", path: found };
}

/** The path shown in the plan: relative to the working dir as given, `-` for stdin. */
export function displayPath(src: ConfigSource): string {
  return src.kind === "stdin" ? "-" : src.path;
}
