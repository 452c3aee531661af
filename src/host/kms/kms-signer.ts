/**
 * The KMS's env-key signer as the KMS reports it at install: the VMM is asked (through its
 * kms_url, as `dstack run -e` will ask) for the env key of a probe app id, and the signer is
 * recovered from the KMS's signature. The installer trusts the KMS it just deployed on this
 * host; clients then refuse env keys signed by anyone else (src/client/deploy/seal-env.ts).
 */
import { envKeySigner } from "../../core/keys/env-key-signature.ts";
import type { VmmClient } from "../../core/vmm/client.ts";

/** Any 20 bytes do: the signature covers the app id, the signing key is the KMS's own. */
const PROBE_APP_ID = "00".repeat(20);

export async function reportedKmsSigner(c: VmmClient): Promise<string> {
  return envKeySigner(await c.getAppEnvEncryptPubKey(PROBE_APP_ID), PROBE_APP_ID, Math.floor(Date.now() / 1000));
}
