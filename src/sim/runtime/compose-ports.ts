/**
 * A service's published ports, rebound to the VM's guest address: what the compose publishes
 * "on the CVM" binds to that one address on the host, so two VMs can both publish port 80.
 * Short syntax (`80`, `8080:80`, `1.2.3.4:8080:80/udp`, `${PORT:-80}:80`, ranges) and long
 * syntax (`{target, published, host_ip, protocol}`) are both handled; interpolation is left
 * to compose.
 */

/** Split on `:` outside `${…}` and `[…]`. */
function splitColons(s: string): string[] {
  const parts: string[] = [];
  let cur = "";
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === "$" && s[i + 1] === "{") {
      depth++;
      cur += "${";
      i++;
      continue;
    }
    if (ch === "[") depth++;
    if ((ch === "}" || ch === "]") && depth > 0) depth--;
    if (ch === ":" && depth === 0) {
      parts.push(cur);
      cur = "";
    } else cur += ch;
  }
  parts.push(cur);
  return parts;
}

export function rebindPort(entry: unknown, guestAddress: string): unknown {
  if (typeof entry === "number") return `${guestAddress}::${entry}`;
  if (typeof entry === "string") {
    const m = /^(.*?)(\/(?:tcp|udp|sctp))?$/.exec(entry.trim())!;
    const parts = splitColons(m[1]!);
    const target = parts[parts.length - 1]!;
    const published = parts.length >= 2 ? parts[parts.length - 2]! : "";
    return `${guestAddress}:${published}:${target}${m[2] ?? ""}`;
  }
  if (entry && typeof entry === "object" && !Array.isArray(entry)) return { ...(entry as object), host_ip: guestAddress };
  return entry;
}
