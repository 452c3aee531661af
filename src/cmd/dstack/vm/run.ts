import { runDeploy } from "../../../client/deploy/deploy-flow.ts";
import { deployArgs } from "../../shared/args.ts";
import { defineCommand } from "../../shared/command.ts";
import { clientRun } from "../../shared/log.ts";

export default defineCommand({
  meta: { name: "run", description: "Run one container image as a confidential VM (dstack run nginx -p 8080:80)" },
  args: {
    image_ref: { type: "positional", required: true, description: "Container image, e.g. nginx:1.27", valueHint: "IMAGE" },
    ...deployArgs,
  },
  async run({ args, rawArgs, io, env }) {
    const dd = rawArgs.indexOf("--");
    const command = dd >= 0 ? rawArgs.slice(dd + 1) : [];
    return runDeploy(args, clientRun({ io, env, args }), { kind: "image", image: String(args.image_ref), command });
  },
});
