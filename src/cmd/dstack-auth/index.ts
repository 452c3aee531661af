import { defineCommand } from "citty";
import { version } from "../shared/version.ts";

export default defineCommand({
  meta: { name: "dstack-auth", version, description: "The KMS auth webhook: decides which apps get keys" },
  subCommands: {},
});
