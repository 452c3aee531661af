import { type Allowlist, type AllowlistError, parseAllowlist } from "../../auth/allowlist.ts";
import { type AllowlistReadError, readAllowlistText } from "../../auth/allowlist-read.ts";
import { NotFoundError, RefusedError } from "../../core/errors.ts";
import { out } from "../../core/io.ts";
import { formatJson } from "../../core/text/output.ts";
import { defineCommand } from "../shared/command.ts";
import { allowlistPath, configArgs } from "./paths.ts";

export default defineCommand({
  meta: { name: "check", description: "Validate an allowlist and print what it allows (exit 4 when invalid)" },
  args: { ...configArgs, json: { type: "boolean", alias: "j", description: "JSON output" } },
  run({ args, io }) {
    const path = allowlistPath(args);
    let text: string;
    try {
      text = readAllowlistText(path);
    } catch (e) {
      const err = e as AllowlistReadError;
      if (err.code === "ENOENT") throw new NotFoundError(`${path} does not exist`);
      if (args.json) out(io, formatJson({ valid: false, path, field: "", error: err.message }));
      throw new RefusedError(`${path} ${err.message}`, { hint: "the webhook denies every app until it is a readable regular file" });
    }
    let list: Allowlist;
    try {
      list = parseAllowlist(text);
    } catch (e) {
      const err = e as AllowlistError;
      if (args.json) out(io, formatJson({ valid: false, path, field: err.path ?? "", error: err.message }));
      throw new RefusedError(`${path} is invalid: ${err.message}`, { hint: "the webhook denies every app until it is fixed" });
    }
    if (args.json) {
      out(io, formatJson({ valid: true, path, ...list }));
      return;
    }
    const lines = [`${path}: valid`, `os images: ${list.osImages.length ? list.osImages.join(", ") : "any (not pinned)"}`];
    lines.push(
      `kms: ${list.kms.mrAggregated.length ? `mrAggregated ${list.kms.mrAggregated.join(", ")}` : "no KMS may boot (no mrAggregated)"}`,
    );
    if (list.allowedTcbStatuses) lines.push(`tcb statuses allowed: ${list.allowedTcbStatuses.join(", ") || "none"}`);
    if (list.allowedAdvisoryIds) lines.push(`advisory ids allowed: ${list.allowedAdvisoryIds.join(", ") || "none"}`);
    const apps = Object.entries(list.apps);
    lines.push(`apps: ${apps.length}`);
    for (const [id, r] of apps) {
      lines.push(`  ${id}${r.allowAnyDevice || r.devices.length === 0 ? "" : ` (devices: ${r.devices.join(", ")})`}`);
      for (const h of r.composeHashes) lines.push(`    ${h}`);
      if (r.composeHashes.length === 0) lines.push("    (no compose hash: always denied)");
    }
    out(io, lines.join("\n"));
  },
});
