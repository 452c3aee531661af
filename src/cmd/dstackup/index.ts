import { defineCommand } from "citty";
import { version } from "../shared/version.ts";

export default defineCommand({
  meta: { name: "dstackup", version, description: "Set up, check and tear down a dstack host (VMM, KMS, auth webhook)" },
  subCommands: {},
});
