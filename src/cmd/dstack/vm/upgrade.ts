import { readInputFile } from "../../../client/deploy/input-file.ts";
import { upgradeVm } from "../../../client/deploy/upgrade.ts";
import { validateDockerCompose } from "../../../core/compose/docker-compose-check.ts";
import { UsageError } from "../../../core/errors.ts";
import { out } from "../../../core/io.ts";
import { formatJson } from "../../../core/text/output.ts";
import { clientArgs } from "../../shared/args.ts";
import { defineCommand } from "../../shared/command.ts";
import { clientRun } from "../../shared/log.ts";

export default defineCommand({
  meta: { name: "upgrade", description: "Give an app a new compose (UpgradeApp): registers the new hash, prints old → new" },
  args: {
    vm: { type: "positional", required: true, description: "VM name or id prefix", valueHint: "NAME|ID" },
    image_ref: {
      type: "positional",
      required: false,
      description: "New container image (for apps made by `dstack run`)",
      valueHint: "IMAGE",
    },
    compose: { type: "string", alias: "c", description: "New docker-compose file", valueHint: "FILE" },
    allowlist: { type: "string", description: "Allowlist to register the new hash in (default: the install's)", valueHint: "PATH" },
    restart: { type: "boolean", description: "Restart the VM so the new compose runs now, and wait for the boot" },
    "keep-previous": {
      type: "boolean",
      description: "Keep the previous compose hash allowed after the new version booted (a staged rollout; default: withdraw it)",
    },
    register: { type: "boolean", description: "Allow the app again if it was revoked (without it, upgrade refuses)" },
    ...clientArgs,
  },
  async run({ args, io, env }) {
    const image = args.image_ref as string | undefined;
    if (!!image === !!args.compose) throw new UsageError("pass either a new IMAGE or -c COMPOSE");
    // A compose file is read and checked before the VMM is asked anything.
    let newCompose: string | undefined;
    if (args.compose) {
      const file = String(args.compose);
      newCompose = readInputFile(file, "-c");
      await validateDockerCompose(newCompose, file);
    }
    const r = await upgradeVm(args, clientRun({ io, env, args }), {
      vm: String(args.vm),
      dockerCompose: newCompose,
      image,
      allowlist: args.allowlist,
      restart: args.restart === true,
      keepPrevious: args["keep-previous"] === true,
      register: args.register === true,
      quiet: args.quiet === true || args.json === true,
    });
    const { vm } = r;
    if (!r.changed) {
      out(
        io,
        args.json
          ? formatJson({ vm: vm.id, changed: false, composeHash: r.composeHash })
          : `${vm.name}: compose unchanged (${r.composeHash})`,
      );
      return 0;
    }
    if (args.json)
      out(
        io,
        formatJson({
          vm: vm.id,
          appId: vm.app_id,
          oldComposeHash: r.oldComposeHash,
          newComposeHash: r.newComposeHash,
          status: r.status,
          previousHash: r.previousHash,
        }),
      );
    else
      out(
        io,
        `${vm.name}: compose hash ${r.oldComposeHash} → ${r.newComposeHash} (app ${vm.app_id}); ${r.status}${args.restart ? "" : ` — \`dstack restart ${vm.name}\``}; previous hash ${r.previousHash}`,
      );
    return r.bootFailed ? 1 : 0;
  },
});
