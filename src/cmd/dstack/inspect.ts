import { formatJson } from "../../core/output.ts";
import { selectVm } from "../../core/vmm/vm-select.ts";
import { defineCommand } from "../shared/command.ts";
import { out } from "../shared/log.ts";
import { clientArgs, openClient } from "./common.ts";

export default defineCommand({
  meta: { name: "inspect", description: "The full VM record as JSON (configuration, events, boot state)" },
  args: { vm: { type: "positional", required: true, description: "VM name or id prefix", valueHint: "NAME|ID" }, ...clientArgs },
  async run({ args, io, env }) {
    const { c } = await openClient(args, io, env);
    try {
      const vm = selectVm((await c.status({ brief: true })).vms, String(args.vm));
      const info = await c.getInfo(vm.id);
      out(io, formatJson(info.info));
    } finally {
      c.close();
    }
  },
});
