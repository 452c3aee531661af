/** The local SGX key provider (TDX): an existing one, or ours from docker compose. */
import { connect } from "node:net";
import { join } from "node:path";
import { DstackError } from "../../core/errors.ts";
import type { Progress } from "../../core/progress.ts";
import type { KeyProviderPlan } from "../install/plan.ts";
import { runTool } from "../runner.ts";

export function tcpAnswers(address: string, port: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: address, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once("connect", () => done(true));
    s.once("error", () => done(false));
  });
}

export async function startKeyProvider(kp: KeyProviderPlan, p: Progress): Promise<void> {
  if (kp.kind === "own") {
    const r = await runTool(["docker", "compose", "-p", kp.project!, "-f", join(kp.src!, "docker-compose.yaml"), "up", "-d"], {
      env: { KEY_PROVIDER_PORT: String(kp.port) },
      timeoutMs: 600_000,
    });
    if (r.code !== 0)
      throw new DstackError(`failed to start our own key provider (docker compose up): ${r.stderr.trim().split("\n").pop() ?? ""}`, {
        hint: `docker compose -p ${kp.project} logs`,
      });
  }
  for (let i = 0; i < 50; i++) {
    if (await tcpAnswers(kp.address, kp.port)) {
      p.ok(`key provider answers at ${kp.address}:${kp.port}${kp.kind === "own" ? ` (docker compose project ${kp.project})` : ""}`);
      return;
    }
    await Bun.sleep(200);
  }
  throw new DstackError(`the key provider does not answer at ${kp.address}:${kp.port}`, {
    hint: kp.kind === "own" ? `docker compose -p ${kp.project} logs` : "check the key provider you passed with --use-existing-key-provider",
  });
}

export async function stopKeyProvider(project: string): Promise<boolean> {
  return (await runTool(["docker", "compose", "-p", project, "down"], { timeoutMs: 300_000 })).code === 0;
}
