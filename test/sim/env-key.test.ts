/**
 * GetAppEnvEncryptPubKey as the real VMM answers it: only through its top-level kms_url
 * (Dstack-TEE/dstack: dstack/vmm/src/app.rs kms_client, "KMS is not configured"), signed by the
 * simulated KMS root as the real KMS signs (the SDK's verifier is the peer).
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { verifyEnvEncryptPublicKey, verifyEnvEncryptPublicKeyLegacy } from "@phala/dstack-sdk";
import { signerOfKey } from "../../src/core/keys/env-key-signature.ts";
import { connectVmm } from "../../src/core/vmm/client.ts";
import { kmsRootKeys } from "../../src/sim/guest-agent/attestation/key-root.ts";
import { startSim } from "../helpers/sim.ts";

const APP_ID = "ab".repeat(20);

describe("GetAppEnvEncryptPubKey", () => {
  test("a VMM without kms_url refuses with the VMM's error", async () => {
    const sim = startSim({ noKms: true });
    const c = await connectVmm({ host: sim.host });
    try {
      await expect(c.getAppEnvEncryptPubKey(APP_ID)).rejects.toThrow("KMS is not configured");
    } finally {
      c.close();
      await sim.stop();
    }
  });

  test("the key is signed by the simulated KMS root: @phala/dstack-sdk recovers that signer from both signatures", async () => {
    const sim = startSim();
    const c = await connectVmm({ host: sim.host });
    try {
      const r = await c.getAppEnvEncryptPubKey(APP_ID);
      const root = signerOfKey(kmsRootKeys(new Uint8Array(readFileSync(join(sim.dir, "vm", ".sim-kms-root")))).k256);
      const pk = Buffer.from(r.public_key, "hex");
      expect(Math.abs(r.timestamp - Date.now() / 1000)).toBeLessThan(5);
      expect(verifyEnvEncryptPublicKey(pk, Buffer.from(r.signature_v1, "hex"), APP_ID, r.timestamp)).toBe(root);
      expect(verifyEnvEncryptPublicKeyLegacy(pk, Buffer.from(r.signature, "hex"), APP_ID)).toBe(root);
      // another app id does not verify to the same signer
      expect(verifyEnvEncryptPublicKey(pk, Buffer.from(r.signature_v1, "hex"), "cd".repeat(20), r.timestamp)).not.toBe(root);
    } finally {
      c.close();
      await sim.stop();
    }
  });
});
