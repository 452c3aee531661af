/**
 * GetAppEnvEncryptPubKey as the real VMM answers it: only through its top-level kms_url
 * (Dstack-TEE/dstack: dstack/vmm/src/app.rs kms_client, "KMS is not configured").
 */
import { describe, expect, test } from "bun:test";
import { connectVmm } from "../../src/core/vmm/client.ts";
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
});
