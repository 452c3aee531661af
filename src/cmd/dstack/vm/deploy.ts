import { runDeploy } from "../../../client/deploy/deploy-flow.ts";
import { readInputFile } from "../../../client/deploy/input-file.ts";
import { validateDockerCompose } from "../../../core/compose/docker-compose-check.ts";
import { UsageError } from "../../../core/errors.ts";
import { deployArgs } from "../../shared/args.ts";
import { defineCommand } from "../../shared/command.ts";
import { clientRun } from "../../shared/log.ts";

export default defineCommand({
  meta: { name: "deploy", description: "Deploy a docker-compose file as a confidential VM (upstream-compatible)" },
  args: {
    compose_path: { type: "positional", required: false, description: "docker-compose file", valueHint: "COMPOSE" },
    compose: { type: "string", alias: "c", description: "docker-compose file", valueHint: "FILE" },
    ...deployArgs,
  },
  async run({ args, io, env }) {
    const pos = args.compose_path as string | undefined;
    if (pos && args.compose) throw new UsageError("pass the compose file once: either as <COMPOSE> or with -c");
    const file = pos ?? (args.compose as string | undefined);
    if (!file) throw new UsageError("missing compose file: pass -c <docker-compose.yaml>");
    const text = readInputFile(file, "-c");
    await validateDockerCompose(text, file);
    return runDeploy(args, clientRun({ io, env, args }), { kind: "compose", text, label: file });
  },
});
