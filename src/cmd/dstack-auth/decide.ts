import { type BootInfo, decideApp, decideKms, parseBootInfo } from "../../auth/decide.ts";
import { unavailable } from "../../auth/server.ts";
import { AllowlistSource } from "../../auth/source.ts";
import { UsageError } from "../../core/errors.ts";
import { out } from "../../core/io.ts";
import { defineCommand } from "../shared/command.ts";
import { allowlistPath, configArgs } from "./paths.ts";

export default defineCommand({
  meta: { name: "decide", description: "Read a BootInfo JSON on stdin and print the decision (exit 0 allowed, 1 denied)" },
  args: { ...configArgs, kms: { type: "boolean", description: "Decide for the KMS route (/bootAuth/kms) instead of an app" } },
  async run({ args, io }) {
    const input = await io.readStdin();
    let info: BootInfo;
    try {
      info = parseBootInfo(JSON.parse(input));
    } catch (e) {
      throw new UsageError(`stdin is not a BootInfo JSON object: ${(e as Error).message}`);
    }
    const path = allowlistPath(args);
    // the same loading as the server's, so a decision and its reason are the ones the webhook would give
    const l = new AllowlistSource(path).load();
    const d = l.ok ? (args.kms ? decideKms(l.compiled, info) : decideApp(l.compiled, info)) : unavailable(l.error);
    out(io, JSON.stringify(d));
    return d.isAllowed ? 0 : 1;
  },
});
