/**
 * dstackai's `${{ ns.name }}` interpolation (`utils/interpolator.py`): whitespace
 * allowed inside, `$${{` is an escape for a literal `${{`, names have exactly
 * one dot and use letters, digits, `_` or `.`; an unclosed `${{` is `No pattern
 * closing`, unknown names `Failed to interpolate due to missing vars: [...]`.
 * Namespaces not in `vars` pass through unchanged when listed in `passThrough`.
 */
import { GrammarError } from "./grammar-error.ts";

const NAME = /^[A-Za-z0-9_]+\.[A-Za-z0-9_]+$/;

export function interpolate(text: string, vars: Record<string, string>, passThrough: readonly string[] = []): string {
  let out = "";
  let i = 0;
  const missing: string[] = [];
  while (i < text.length) {
    const at = text.indexOf("${{", i);
    if (at < 0) {
      out += text.slice(i);
      break;
    }
    if (at > 0 && text[at - 1] === "$") {
      out += `${text.slice(i, at - 1)}\${{`;
      i = at + 3;
      continue;
    }
    out += text.slice(i, at);
    const end = text.indexOf("}}", at + 3);
    if (end < 0) throw new GrammarError(`No pattern closing: ${text.slice(at)}`);
    const name = text.slice(at + 3, end).trim();
    if (!NAME.test(name)) throw new GrammarError(`Illegal reference name: ${name}`);
    const ns = name.slice(0, name.indexOf("."));
    if (Object.hasOwn(vars, name)) out += vars[name];
    else if (passThrough.includes(ns)) out += text.slice(at, end + 2);
    else missing.push(name);
    i = end + 2;
  }
  if (missing.length) throw new GrammarError(`Failed to interpolate due to missing vars: [${missing.map((m) => `'${m}'`).join(", ")}]`);
  return out;
}
