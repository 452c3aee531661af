/** YAML double-quoted scalars for the compose files we generate. */
import { UsageError } from "../errors.ts";

/**
 * A YAML double-quoted scalar. Every character YAML would not take raw is
 * escaped. With `compose` set, `$` is doubled so docker compose keeps it literal
 * instead of interpolating it (for command arguments; `${NAME}` references are
 * quoted without it).
 */
export function yamlQuote(s: string, opts: { compose?: boolean } = {}): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i]!;
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out += ch + s[i + 1]!;
        i++;
        continue;
      }
      throw new UsageError(`cannot put a lone UTF-16 surrogate in a compose file: ${JSON.stringify(s)}`);
    }
    if (c >= 0xdc00 && c <= 0xdfff) throw new UsageError(`cannot put a lone UTF-16 surrogate in a compose file: ${JSON.stringify(s)}`);
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "$" && opts.compose) out += "$$";
    else if (c === 0x0a) out += "\\n";
    else if (c === 0x09) out += "\\t";
    else if (c === 0x0d) out += "\\r";
    else if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029 || c === 0xfeff || c === 0xfffe || c === 0xffff) {
      out += `\\u${c.toString(16).padStart(4, "0")}`;
    } else out += ch;
  }
  return `${out}"`;
}
