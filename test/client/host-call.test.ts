import { describe, expect, test } from "bun:test";
import { answer, hostCall } from "../../src/client/connect/host-call.ts";
import { DstackError, LockTimeoutError, NotFoundError } from "../../src/core/errors.ts";
import type { VmmClient } from "../../src/core/vmm/client.ts";

/** A host whose one Dstack.* handler is `run`, answered through the envelope and JSON, as dial-stdio does. */
const hostOf = (run: () => Promise<unknown>) =>
  ({
    endpoint: "ssh://u@h:22 → dstack system dial-stdio",
    call: async () => JSON.parse(JSON.stringify(await answer(run))),
  }) as unknown as VmmClient;

describe("the Dstack.* envelope", () => {
  test("a result crosses as it is", async () => {
    expect(
      await hostCall(
        hostOf(async () => ({ removed: 2 })),
        "Dstack.RevokeApp",
      ),
    ).toEqual({ removed: 2 });
    expect(
      await hostCall(
        hostOf(async () => undefined),
        "Dstack.X",
      ),
    ).toBeNull();
  });

  test("a failure on the host ends the laptop's command with its exit code and hint, naming the host", async () => {
    const e = await hostCall<never>(
      hostOf(async () => {
        throw new NotFoundError("allowlist /etc/dstack/auth-allowlist.json does not exist", { hint: "run dstackup install" });
      }),
      "Dstack.ReadAllowlist",
    ).catch((x: DstackError) => x);
    expect(e).toBeInstanceOf(NotFoundError);
    expect(e.exitCode).toBe(3);
    expect(e.message).toBe("ssh://u@h:22 → dstack system dial-stdio: allowlist /etc/dstack/auth-allowlist.json does not exist");
    expect(e.hint).toBe("run dstackup install");
    const lock = await hostCall<never>(
      hostOf(async () => {
        throw new LockTimeoutError("/etc/dstack/auth-allowlist.json.lock", 10);
      }),
      "Dstack.RegisterApp",
    ).catch((x: DstackError) => x);
    expect(lock).toBeInstanceOf(DstackError);
    expect(lock.exitCode).toBe(75);
    const plain = await hostCall<never>(
      hostOf(async () => {
        throw new Error("EIO");
      }),
      "Dstack.X",
    ).catch((x: DstackError) => x);
    expect([plain.exitCode, plain.message]).toEqual([1, "ssh://u@h:22 → dstack system dial-stdio: EIO"]);
  });
});
