/** A configuration type's keys: each key's parser writes into the model being built. */
import type { Issues } from "./issues.ts";
import type { Path } from "./yaml11.ts";

export type KeyParser<C> = (v: unknown, path: Path, issues: Issues, c: C) => void;
export type KeyTable<C> = Record<string, KeyParser<C>>;

/** Run every key of `obj` through `table`; unknown keys are errors with "did you mean". */
export function applyKeys<C>(obj: Record<string, unknown>, path: Path, issues: Issues, table: KeyTable<C>, c: C): void {
  issues.unknownKeys(path, obj, Object.keys(table));
  for (const [k, v] of Object.entries(obj)) {
    const parse = Object.hasOwn(table, k) ? table[k] : undefined;
    if (parse) parse(v, [...path, k], issues, c);
  }
}
