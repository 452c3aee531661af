import { defineCommand } from "citty";
import { readFileSync } from "node:fs";
import { buildAppCompose, composeFromImage, composeHashOf, parseAppCompose, validateDockerCompose } from "../../core/compose.ts";
import { UsageError } from "../../core/errors.ts";
import { formatJson } from "../../core/output.ts";
import { selectVm } from "../../core/vm-select.ts";
import { registerAppHash } from "../../host/allowlist-file.ts";
import { waitBoot } from "../../host/deploy.ts";
import { out } from "../shared/log.ts";
import { clientArgs, openClient, progressPrinter } from "./common.ts";

export default defineCommand({
  meta: { name: "upgrade", description: "Give an app a new compose (UpgradeApp): registers the new hash, prints old → new" },
  args: {
    vm: { type: "positional", required: true, description: "VM name or id prefix", valueHint: "NAME|ID" },
    image_ref: { type: "positional", required: false, description: "New container image (for apps made by `dstack run`)", valueHint: "IMAGE" },
    compose: { type: "string", alias: "c", description: "New docker-compose file", valueHint: "FILE" },
    allowlist: { type: "string", description: "Allowlist to register the new hash in (default: the install's)", valueHint: "PATH" },
    restart: { type: "boolean", description: "Restart the VM so the new compose runs now, and wait for the boot" },
    ...clientArgs,
  },
  async run({ args }) {
    const image = args.image_ref as string | undefined;
    if (!!image === !!args.compose) throw new UsageError("pass either a new IMAGE or -c COMPOSE");
    const { c, ep } = await openClient(args);
    try {
      const vm = selectVm((await c.status({ brief: true })).vms, String(args.vm));
      const info = (await c.getInfo(vm.id)).info!;
      const oldText = info.configuration!.compose_file;
      const old = parseAppCompose(oldText);
      let docker: string;
      if (args.compose) {
        docker = readFileSync(String(args.compose), "utf8");
        await validateDockerCompose(docker, String(args.compose));
      } else {
        docker = composeFromImage({ image: image!, ports: info.configuration!.ports.map((p) => ({ vmPort: p.vm_port, protocol: p.protocol as "tcp" })), env: old.allowed_envs ?? [] });
      }
      const built = buildAppCompose({ name: old.name, dockerCompose: docker, kms: old.kms_enabled !== false, allowedEnvs: old.allowed_envs ?? [] });
      const oldHash = composeHashOf(oldText);
      if (built.composeHash === oldHash) {
        out(args.json ? formatJson({ vm: vm.id, changed: false, composeHash: oldHash }) : `${vm.name}: compose unchanged (${oldHash})`);
        return 0;
      }
      if (old.kms_enabled !== false) await registerAppHash(args.allowlist ?? ep.allowlistPath, vm.app_id, built.composeHash);
      await c.upgradeApp({ id: vm.id, compose_file: built.composeFile });
      let status = "upgraded; restart to run it";
      if (args.restart) {
        await c.stopVm(vm.id);
        await c.startVm(vm.id);
        const pr = progressPrinter(args.quiet === true || args.json === true);
        const b = await waitBoot(c, vm.id, 120_000, (m) => pr.line(`${vm.name}: ${m}`));
        pr.done();
        status = b.ok ? "upgraded and restarted" : `restarted, boot failed: ${b.reason}`;
      }
      if (args.json) out(formatJson({ vm: vm.id, appId: vm.app_id, oldComposeHash: oldHash, newComposeHash: built.composeHash, status }));
      else out(`${vm.name}: compose hash ${oldHash} → ${built.composeHash} (app ${vm.app_id}); ${status}${args.restart ? "" : ` — \`dstack restart ${vm.name}\``}`);
      return status.includes("failed") ? 1 : 0;
    } finally {
      c.close();
    }
  },
});
