/**
 * Problems found in a configuration: each names its path and, through the
 * loader's line map, `FILE:LINE`. A parse collects every error (as pydantic
 * reports all of them) and the warnings, then throws one ConfigurationError.
 */
import { UsageError } from "../../errors.ts";
import { nearest } from "../../text/suggest.ts";
import { formatPath, type Path } from "./yaml11.ts";

export interface Issue {
  path: Path;
  message: string;
}

/** Collects errors and warnings while a configuration is checked. */
export class Issues {
  readonly errors: Issue[] = [];
  readonly warnings: Issue[] = [];
  error(path: Path, message: string): undefined {
    this.errors.push({ path, message });
    return undefined;
  }
  warn(path: Path, message: string): void {
    this.warnings.push({ path, message });
  }
  /** Keys of `obj` not in `known`: an error each, with "did you mean". */
  unknownKeys(path: Path, obj: Record<string, unknown>, known: Iterable<string>): void {
    const names = [...known];
    for (const k of Object.keys(obj)) {
      if (names.includes(k)) continue;
      const near = nearest(k, names);
      this.error([...path, k], `unknown key (Extra inputs are not permitted)${near ? `; did you mean "${near}"?` : ""}`);
    }
  }
}

export interface LocatedIssue {
  file: string;
  line: number;
  path: string;
  message: string;
}

/** `FILE:LINE: PATH: MESSAGE` */
export function formatIssue(i: LocatedIssue): string {
  return `${i.file}:${i.line}: ${i.path}: ${i.message}`;
}

export function locate(file: string, lineOf: (p: Path) => number, list: Issue[]): LocatedIssue[] {
  return list.map((i) => ({ file, line: lineOf(i.path), path: formatPath(i.path), message: i.message }));
}

/** An invalid configuration file. Exit 2. */
export class ConfigurationError extends UsageError {
  readonly issues: LocatedIssue[];
  constructor(issues: LocatedIssue[], hint?: string) {
    const first = issues[0]!;
    super(
      issues.length === 1 ? formatIssue(first) : `${first.file}: ${issues.length} problems:\n  ${issues.map(formatIssue).join("\n  ")}`,
      hint ? { hint } : {},
    );
    this.name = "ConfigurationError";
    this.issues = issues;
  }
}
