/**
 * Seal env vars to an app: ask the VMM (which asks its KMS) for the app's env key, check
 * that the trusted KMS signer signed it (core/keys/env-key-signature.ts), encrypt to it.
 * Nothing is sent when the signer is missing, wrong or unknown (RefusedError, exit 4).
 */
import { type EnvVar, encryptEnv } from "../../core/env/envcrypt.ts";
import { trustedEnvKey } from "../../core/keys/env-key-signature.ts";
import type { VmmClient } from "../../core/vmm/client.ts";

export async function sealEnv(c: VmmClient, appId: string, env: EnvVar[], kmsSigner: string | undefined): Promise<string> {
  const r = await c.getAppEnvEncryptPubKey(appId);
  return encryptEnv(env, trustedEnvKey(r, appId.replace(/^0x/i, "").toLowerCase(), kmsSigner, Math.floor(Date.now() / 1000)));
}
