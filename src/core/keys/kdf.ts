/**
 * dstack's key derivation (ra-tls kdf): HKDF-SHA256 with salt "RATLS", the
 * context parts concatenated as the info. The KMS derives an app's key from its
 * root key with context [app id, "app-key"]; the guest derives GetKey keys from
 * the app key with context [path].
 *
 * Upstream: Dstack-TEE/dstack: dstack/ra-tls/src/kdf.rs.
 */
import { hkdfSync } from "node:crypto";

export function deriveKey(ikm: Uint8Array, context: readonly Uint8Array[], length = 32): Uint8Array {
  return new Uint8Array(hkdfSync("sha256", ikm, "RATLS", Buffer.concat(context), length));
}
