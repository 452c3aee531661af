import { openClient } from "../../client/session.ts";
import { out } from "../../core/io.ts";
import { formatJson } from "../../core/output.ts";
import { formatPs } from "../../core/vmm/ps-format.ts";
import { clientArgs } from "../shared/args.ts";
import { defineCommand } from "../shared/command.ts";
import { clientRun } from "../shared/log.ts";

export default defineCommand({
  meta: { name: "ps", alias: ["ls", "apps"], description: "List CVMs (running ones; -a for all; -q only ids, like docker ps -q)" },
  args: {
    all: { type: "boolean", alias: "a", description: "Include stopped and exited VMs" },
    ids: { type: "boolean", description: "Only print full VM ids (same as -q)" },
    ...clientArgs,
  },
  async run({ args, io, env }) {
    const { c } = await openClient(args, clientRun({ io, env, args }));
    try {
      const vms = (await c.status({ brief: false })).vms.filter((v) => args.all || v.status === "running" || v.status === "stopping");
      if (args.json) out(io, formatJson(vms));
      else if (args.ids || args.quiet) out(io, vms.map((v) => v.id).join("\n"));
      else out(io, formatPs(vms));
    } finally {
      c.close();
    }
  },
});
