import { defineCommand } from "citty";
import { version } from "../shared/version.ts";

export default defineCommand({
  meta: { name: "dstack", version, description: "Deploy and manage confidential apps on a dstack host" },
  subCommands: {},
});
