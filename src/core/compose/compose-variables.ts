/** The variables a docker-compose file interpolates (filled in the CVM from the decrypted env). */

export interface ComposeVariable {
  name: string;
  /** `${X:-d}`, `${X-d}`, `${X:+v}`, `${X+v}`: the file works without it. */
  optional: boolean;
}

const VAR_RE = /\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+?])[^}]*)?\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/** Variables referenced in one string, compose-style (`$$` is a literal `$`). */
export function variablesIn(s: string): ComposeVariable[] {
  const out: ComposeVariable[] = [];
  for (const m of s.matchAll(VAR_RE)) {
    if (m[0] === "$$") continue;
    const name = m[1] ?? m[3]!;
    const op = m[2];
    out.push({ name, optional: op !== undefined && !op.endsWith("?") });
  }
  return out;
}

/**
 * The variables a docker-compose file interpolates in its values (what
 * `docker compose` in the CVM fills from the decrypted env). Each name once,
 * in file order; a name is optional only if every use has a default.
 */
export async function composeVariables(text: string): Promise<ComposeVariable[]> {
  const { parseDocument, visit, isScalar } = await import("yaml");
  const doc = parseDocument(text);
  const seen = new Map<string, ComposeVariable>();
  visit(doc, {
    Scalar(key, node) {
      if (key === "key" || !isScalar(node) || typeof node.value !== "string") return;
      for (const v of variablesIn(node.value)) {
        const prev = seen.get(v.name);
        if (!prev) seen.set(v.name, { ...v });
        else prev.optional &&= v.optional;
      }
    },
  });
  return [...seen.values()];
}
