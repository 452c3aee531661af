/**
 * The deterministic JSON the compose hash is computed over: byte-identical to
 * @phala/dstack-sdk's getComposeHash form.
 */

/**
 * Deterministic JSON: object keys sorted by UTF-16 code units (JS's default
 * sort, as @phala/dstack-sdk's getComposeHash does; see sortedKeys for
 * numeric keys), no whitespace, `undefined` members dropped, strings escaped
 * as JSON.stringify does (non-ASCII raw). Byte-identical to the SDK's form.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "number":
      return Number.isFinite(value) ? JSON.stringify(value) : "null";
    case "object": {
      if (Array.isArray(value)) {
        return `[${value.map((x) => (x === undefined || typeof x === "function" ? "null" : canonicalJson(x))).join(",")}]`;
      }
      const obj = value as Record<string, unknown>;
      const parts: string[] = [];
      for (const k of sortedKeys(obj)) {
        const x = obj[k];
        if (x === undefined || typeof x === "function" || typeof x === "symbol") continue;
        parts.push(`${JSON.stringify(k)}:${canonicalJson(x)}`);
      }
      return `{${parts.join(",")}}`;
    }
    default:
      throw new TypeError(`cannot serialise a ${typeof value} in an app-compose manifest`);
  }
}

const ARRAY_INDEX = /^(?:0|[1-9][0-9]*)$/;

/**
 * Keys in the order JSON.stringify emits a key-sorted object rebuilt in JS,
 * as the SDK does: array-index keys ("0", "10") first in numeric order (JS
 * objects always put them first), then the rest in UTF-16 code unit order.
 */
function sortedKeys(obj: Record<string, unknown>): string[] {
  const keys = Object.keys(obj).sort();
  const isIndex = (k: string) => ARRAY_INDEX.test(k) && Number(k) < 2 ** 32 - 1;
  const idx = keys.filter(isIndex).sort((a, b) => Number(a) - Number(b));
  return idx.length ? [...idx, ...keys.filter((k) => !isIndex(k))] : keys;
}
