/**
 * Python's `shlex.split` (POSIX mode) and `shlex.join`, for `entrypoint` and
 * `${{ run.args }}` as dstackai uses them.
 */
import { GrammarError } from "./grammar-error.ts";

export function shlexSplit(s: string): string[] {
  const out: string[] = [];
  let cur = "";
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) throw new GrammarError("No closing quotation");
      cur += s.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '"') {
      i++;
      for (; i < s.length && s[i] !== '"'; i++) {
        if (s[i] === "\\" && i + 1 < s.length && '"\\$`\n'.includes(s[i + 1]!)) i++;
        cur += s[i];
      }
      if (i >= s.length) throw new GrammarError("No closing quotation");
      inWord = true;
    } else if (c === "\\") {
      if (i + 1 >= s.length) throw new GrammarError("No escaped character");
      cur += s[++i];
      inWord = true;
    } else if (c === "#" && !inWord) {
      break;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = "";
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}

/** Python's shlex.quote */
export function shlexQuote(s: string): string {
  if (s === "") return "''";
  if (/^[\w@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replaceAll("'", "'\"'\"'")}'`;
}

export function shlexJoin(args: string[]): string {
  return args.map(shlexQuote).join(" ");
}
