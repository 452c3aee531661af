/** The message of the GrammarError `fn` throws (a .dstack.yml value refused); fails the test if it throws none or another error. */
import { expect } from "bun:test";
import { GrammarError } from "../../src/core/dstack-yml/forms/grammar-error.ts";

export function grammarError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(GrammarError);
    return (e as Error).message;
  }
  throw new Error("expected a GrammarError");
}
