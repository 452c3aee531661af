import { defineCommand } from "citty";
import { checkImageRef, composeFromImage } from "../../core/compose.ts";
import { UsageError } from "../../core/errors.ts";
import { parsePortSpecs } from "../../core/ports.ts";
import { nameFromImage } from "../../core/vm-select.ts";
import { toList } from "../shared/args.ts";
import { commonRequest, deployArgs, guestImage, runDeploy } from "./deploy-common.ts";

export default defineCommand({
  meta: { name: "run", description: "Run one container image as a confidential VM (dstack run nginx -p 8080:80)" },
  args: {
    image_ref: { type: "positional", required: true, description: "Container image, e.g. nginx:1.27", valueHint: "IMAGE" },
    ...deployArgs,
  },
  async run({ args, rawArgs }) {
    const dd = rawArgs.indexOf("--");
    const command = dd >= 0 ? rawArgs.slice(dd + 1) : [];
    const positionals = (dd >= 0 ? args._.slice(0, args._.length - command.length) : args._).map(String);
    if (positionals.length > 1) throw new UsageError(`dstack run takes one IMAGE (got ${positionals.join(" ")}); put the container's command after --`);
    const image = String(args.image_ref);
    checkImageRef(image);
    const ports = parsePortSpecs(toList(args.port));
    const name = (args.name as string | undefined) ?? nameFromImage(image);
    return runDeploy(args as never, async (stateImage) => {
      const env = commonRequest(args as never, name, "", ports, guestImage(args as never, stateImage)).env.map((e) => e.key);
      const dockerCompose = composeFromImage({ image, ports: ports.map((p) => ({ vmPort: p.vmPort, protocol: p.protocol })), env, command: command.length ? command : undefined });
      return { req: commonRequest(args as never, name, dockerCompose, ports, guestImage(args as never, stateImage)) };
    });
  },
});
