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
