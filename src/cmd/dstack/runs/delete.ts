import { deleteRun } from "../../../client/apply/delete-flow.ts";
import { clientArgs, configFileArgs, yesArgs } from "../../shared/args.ts";
import { defineCommand } from "../../shared/command.ts";
import { clientRun } from "../../shared/log.ts";

export default defineCommand({
  meta: {
    name: "delete",
    alias: ["destroy"],
    description: "Delete the run a .dstack.yml names: its CVM and, when unused, its registration (asks first; -y not)",
  },
  args: {
    ...configFileArgs,
    name: { type: "string", alias: "n", description: "The run name (overrides name:)" },
    ...yesArgs,
    allowlist: { type: "string", description: "Allowlist to withdraw from (default: the install's)", valueHint: "PATH" },
    ...clientArgs,
  },
  run({ args, io, env }) {
    return deleteRun({ ...args, yes: args.yes === true, cwd: process.cwd() }, clientRun({ io, env, args }));
  },
});
