/**
 * prpc's JSON rules on the simulator's side (Dstack-TEE/dstack: dstack/ra-rpc/src/lib.rs,
 * prpc serde_helpers.rs): every RPC failure is an RpcError (HTTP 400 `{"error": …}`),
 * and request fields are type-checked as serde would, with serde's wording.
 */
export class RpcError extends Error {}

export type Obj = Record<string, unknown>;

type Kind = "string" | "number" | "boolean" | "array";

const expected = (kind: Kind) => (kind === "number" ? "u32" : kind === "array" ? "a sequence" : `a ${kind}`);

/** Reject a present field of the wrong JSON type (`null` only where the field is optional). */
export function typed(body: Obj, key: string, kind: Kind, optional = false): void {
  const v = body[key];
  if (v === undefined) return;
  if (v === null) {
    if (optional) return;
    throw new RpcError(`invalid type: null, expected ${expected(kind)}`);
  }
  const ok =
    kind === "array" ? Array.isArray(v) : kind === "number" ? typeof v === "number" && Number.isInteger(v) && v >= 0 : typeof v === kind;
  if (!ok) throw new RpcError(`invalid type: ${JSON.stringify(v)}, expected ${expected(kind)} for field \`${key}\``);
}

/** A protobuf field as prpc's serde sees it: a scalar, `[T]` for repeated, a nested message's schema, or `{ optional: T }`. */
export type FieldType = "string" | "u32" | "bool" | readonly [FieldType] | MessageSchema | { readonly optional: FieldType };
export interface MessageSchema {
  readonly [field: string]: FieldType;
}

const isOptional = (t: FieldType): t is { readonly optional: FieldType } =>
  typeof t === "object" && !Array.isArray(t) && Object.keys(t).length === 1 && "optional" in t;

function describe(t: FieldType): string {
  if (t === "u32") return "u32";
  if (t === "bool") return "a boolean";
  if (t === "string") return "a string";
  if (Array.isArray(t)) return "a sequence";
  return "struct";
}

function decodeValue(v: unknown, t: FieldType, key: string): unknown {
  if (isOptional(t)) return v === null ? null : decodeValue(v, t.optional, key);
  // a nested message is an Option in prost: null is none
  if (v === null && typeof t === "object" && !Array.isArray(t)) return null;
  if (v === null) throw new RpcError(`invalid type: null, expected ${describe(t)} for field \`${key}\``);
  const ok =
    t === "u32"
      ? typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0xffffffff
      : t === "bool"
        ? typeof v === "boolean"
        : t === "string"
          ? typeof v === "string"
          : Array.isArray(t)
            ? Array.isArray(v)
            : typeof v === "object" && !Array.isArray(v);
  if (!ok) throw new RpcError(`invalid type: ${JSON.stringify(v)}, expected ${describe(t)} for field \`${key}\``);
  if (Array.isArray(t)) return (v as unknown[]).map((x) => decodeValue(x, t[0] as FieldType, key));
  if (typeof t === "object") return decodeMessage(v as Obj, t as MessageSchema);
  return v;
}

/**
 * A request message as serde decodes it: fields of the schema that are present, type-checked
 * (a 400 naming the field), nested messages and lists alike; unknown fields are dropped.
 */
export function decodeMessage(body: Obj, schema: MessageSchema): Obj {
  const out: Obj = {};
  for (const [key, t] of Object.entries(schema)) {
    if (!Object.hasOwn(body, key) || body[key] === undefined) continue;
    out[key] = decodeValue(body[key], t, key);
  }
  return out;
}
