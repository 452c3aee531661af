import { readFileSync } from "node:fs";
import { registerAppHash, unregisterAppHash } from "../../auth/allowlist-file.ts";
import { waitBooted } from "../../client/boot-wait.ts";
import { STOP_TIMEOUT, stopVm } from "../../client/graceful-stop.ts";
import { openClient } from "../../client/session.ts";
import { buildAppCompose, composeHashOf } from "../../core/compose/app-compose.ts";
import { parseAppCompose } from "../../core/compose/app-compose-parse.ts";
import { DEFAULTS, parseDuration } from "../../core/compose/deploy-plan.ts";
import { validateDockerCompose } from "../../core/compose/docker-compose-check.ts";
import { UsageError } from "../../core/errors.ts";
import { out } from "../../core/io.ts";
import { formatJson } from "../../core/output.ts";
import { selectVm } from "../../core/vmm/vm-select.ts";
import { clientArgs } from "../shared/args.ts";
import { defineCommand } from "../shared/command.ts";
import { clientRun } from "../shared/log.ts";

/**
 * The app's docker-compose with only the image of its single service replaced: command,
 * ports, environment and the rest stay as they were. An app of several services has no one
 * image to replace: it is upgraded with -c.
 */
async function withImage(dockerCompose: string, image: string, vmName: string): Promise<string> {
  const YAML = await import("yaml");
  const doc = YAML.parseDocument(dockerCompose);
  const services = doc.get("services");
  const names = YAML.isMap(services) ? services.items.map((i) => String((i.key as { value?: unknown })?.value ?? i.key)) : [];
  if (names.length !== 1) {
    throw new UsageError(`${vmName} runs ${names.length} services (${names.join(", ") || "none found"}): a new IMAGE is ambiguous`, {
      hint: `upgrade it with a compose file: dstack upgrade ${vmName} -c docker-compose.yaml`,
    });
  }
  doc.setIn(["services", names[0]!, "image"], image);
  return doc.toString();
}

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
    ...clientArgs,
  },
  async run({ args, io, env }) {
    const image = args.image_ref as string | undefined;
    if (!!image === !!args.compose) throw new UsageError("pass either a new IMAGE or -c COMPOSE");
    // A compose file is read and checked before the VMM is asked anything.
    let newCompose: string | undefined;
    if (args.compose) {
      const file = String(args.compose);
      try {
        newCompose = readFileSync(file, "utf8");
      } catch (e) {
        throw new UsageError(`-c ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
      await validateDockerCompose(newCompose, file);
    }
    const { c, ep } = await openClient(args, clientRun({ io, env, args }));
    try {
      const vm = selectVm((await c.status({ brief: true })).vms, String(args.vm));
      const info = (await c.getInfo(vm.id)).info!;
      const oldText = info.configuration!.compose_file;
      const old = parseAppCompose(oldText);
      const docker = newCompose ?? (await withImage(old.docker_compose_file ?? "", image!, vm.name));
      const built = buildAppCompose({
        name: old.name,
        dockerCompose: docker,
        kms: old.kms_enabled !== false,
        allowedEnvs: old.allowed_envs ?? [],
      });
      const oldHash = composeHashOf(oldText);
      if (built.composeHash === oldHash) {
        out(io, args.json ? formatJson({ vm: vm.id, changed: false, composeHash: oldHash }) : `${vm.name}: compose unchanged (${oldHash})`);
        return 0;
      }
      const allowlistPath = args.allowlist ?? ep.allowlistPath;
      const added = old.kms_enabled !== false && (await registerAppHash(allowlistPath, vm.app_id, built.composeHash)).added;
      try {
        await c.upgradeApp({ id: vm.id, compose_file: built.composeFile });
      } catch (e) {
        // Withdraw the registration this call added (not one that was there before).
        if (added) await unregisterAppHash(allowlistPath, vm.app_id, built.composeHash);
        throw e;
      }
      let status = "upgraded; restart to run it";
      let bootFailed = false;
      if (args.restart) {
        // As `dstack restart`: a guest shutdown, then start and wait for the boot.
        await stopVm(c, vm, { force: false, timeoutMs: parseDuration(STOP_TIMEOUT), timeoutText: STOP_TIMEOUT });
        await c.startVm(vm.id);
        try {
          await waitBooted(c, vm, parseDuration(DEFAULTS.timeout), io, args.quiet === true || args.json === true);
          status = "upgraded and restarted";
        } catch (e) {
          bootFailed = true;
          status = `restarted, ${(e as Error).message}`;
        }
      }
      if (args.json)
        out(io, formatJson({ vm: vm.id, appId: vm.app_id, oldComposeHash: oldHash, newComposeHash: built.composeHash, status }));
      else
        out(
          io,
          `${vm.name}: compose hash ${oldHash} → ${built.composeHash} (app ${vm.app_id}); ${status}${args.restart ? "" : ` — \`dstack restart ${vm.name}\``}`,
        );
      return bootFailed ? 1 : 0;
    } finally {
      c.close();
    }
  },
});
