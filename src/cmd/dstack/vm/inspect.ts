import { openClient } from "../../../client/connect/session.ts";
import { out } from "../../../core/io.ts";
import { formatJson } from "../../../core/text/output.ts";
import { selectVm } from "../../../core/vmm/vm-select.ts";
import { textClientArgs } from "../../shared/args.ts";
import { defineCommand } from "../../shared/command.ts";
import { clientRun } from "../../shared/log.ts";

export default defineCommand({
  meta: { name: "inspect", description: "The full VM record as JSON (configuration, events, boot state)" },
  args: { vm: { type: "positional", required: true, description: "VM name or id prefix", valueHint: "NAME|ID" }, ...textClientArgs },
  async run({ args, io, env }) {
    const { c } = await openClient(args, clientRun({ io, env, args }));
    try {
      const vm = selectVm((await c.status({ brief: true })).vms, String(args.vm));
      const info = await c.getInfo(vm.id);
      out(io, formatJson(info.info));
    } finally {
      c.close();
    }
  },
});
