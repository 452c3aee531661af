import { defineCommand } from "citty";
import { readFileSync } from "node:fs";
import { parseAllowlist } from "../../auth/allowlist.ts";
import { decideApp, decideKms, parseBootInfo } from "../../auth/decide.ts";
import { unavailable } from "../../auth/server.ts";
import { UsageError } from "../../core/errors.ts";
import { out } from "../shared/log.ts";
import { allowlistPath, configArgs } from "./paths.ts";

export default defineCommand({
  meta: { name: "decide", description: "Read a BootInfo JSON on stdin and print the decision (exit 0 allowed, 1 denied)" },
  args: { ...configArgs, kms: { type: "boolean", description: "Decide for the KMS route (/bootAuth/kms) instead of an app" } },
  async run({ args }) {
    const input = await new Response(Bun.stdin.stream()).text();
    let info;
    try {
      info = parseBootInfo(JSON.parse(input));
    } catch (e) {
      throw new UsageError(`stdin is not a BootInfo JSON object: ${(e as Error).message}`);
    }
    const path = allowlistPath(args);
    let d;
    try {
      const list = parseAllowlist(readFileSync(path, "utf8"));
      d = args.kms ? decideKms(list, info) : decideApp(list, info);
    } catch (e) {
      d = unavailable(`${path}: ${(e as Error).message}`);
    }
    out(JSON.stringify(d));
    return d.isAllowed ? 0 : 1;
  },
});
