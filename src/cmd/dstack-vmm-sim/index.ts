import { version, versionString } from "../../core/version.ts";
import { defineCommand } from "../shared/command.ts";

export default defineCommand({
  meta: { name: "dstack-vmm-sim", version, description: "A dstack-vmm stand-in with simulated CVMs (no TEE): same API, same vmm.toml" },
  args: {
    config: { type: "string", alias: "c", required: true, description: "vmm.toml", valueHint: "FILE" },
  },
  async run({ args, io }) {
    // loaded here, not at the top: `--version`/`--help` stay as fast as the other tools
    const { loadSimConfig } = await import("../../sim/config.ts");
    const { startSimulator } = await import("../../sim/server.ts");
    const cfg = loadSimConfig(String(args.config));
    const running = await startSimulator(cfg);
    io.stderr(
      `${versionString("dstack-vmm-sim")} (simulated, no TEE) listening on ${running.url}; ${running.sim.store.vms.size} VM(s) loaded from ${cfg.runPath}${cfg.authEnabled ? "; [auth] on" : ""}${cfg.authUrl ? `; KMS webhook ${cfg.authUrl}` : "; no KMS webhook"}\n`,
    );
    await new Promise<void>((resolve) => io.onSignal(["SIGTERM", "SIGINT"], resolve));
    await running.stop();
    io.stderr("dstack-vmm-sim: stopped\n");
    return 0;
  },
});
