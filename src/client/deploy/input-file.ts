/**
 * A file the user named on the command line (-c COMPOSE, --env-file FILE), read whole. One
 * that does not exist is "not found" (exit 3, the README's table); one that cannot be read
 * (a directory, no permission) is a usage error (exit 2); either names the flag and the file.
 */
import { readFileSync } from "node:fs";
import { NotFoundError, UsageError } from "../../core/errors.ts";

export function readInputFile(path: string, flag: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === "ENOENT") throw new NotFoundError(`${flag} ${path}: no such file`, { hint: "check the path" });
    throw new UsageError(`${flag} ${path}: cannot read it (${err.code ?? err.message})`);
  }
}
