/** `dstack context ls` and `inspect`: the contexts, the one in use marked (src/client/context/views.ts). */
import { contextViews, overriddenBy } from "../../../client/context/views.ts";
import { NotFoundError } from "../../../core/errors.ts";
import { out } from "../../../core/io.ts";
import { formatJson, formatTable } from "../../../core/text/output.ts";
import { outputArgs } from "../../shared/args.ts";
import { defineCommand } from "../../shared/command.ts";
import { createLogger } from "../../shared/log.ts";

export const ls = defineCommand({
  meta: { name: "ls", alias: ["list"], description: "The contexts; * marks the one in use" },
  args: { ...outputArgs },
  run({ args, io, env }) {
    const views = contextViews(env);
    if (args.json) out(io, formatJson(views));
    else if (args.quiet) out(io, views.map((v) => v.name).join("\n"));
    else {
      out(
        io,
        formatTable(views, [
          { header: "NAME", get: (v) => `${v.name}${v.current ? " *" : ""}` },
          { header: "DESCRIPTION", get: (v) => v.description },
          { header: "DSTACK ENDPOINT", get: (v) => v.host ?? env.DSTACK_HOST ?? "this machine's install" },
        ]),
      );
      const by = overriddenBy(env);
      if (by && by !== "DSTACK_CONTEXT") createLogger(io, args).warn(`${by} is set: it overrides the current context`);
    }
  },
});

export const inspect = defineCommand({
  meta: { name: "inspect", description: "The contexts named (default: the one in use) as JSON" },
  args: { name: { type: "positional", required: false, description: "The contexts' names", valueHint: "NAME…", variadic: true } },
  run({ args, io, env }) {
    const views = contextViews(env);
    const picked = args._.length ? args._ : [views.find((v) => v.current)!.name];
    const found = picked.map((n) => {
      const v = views.find((x) => x.name === n);
      if (!v) throw new NotFoundError(`context "${n}" does not exist`, { hint: "see `dstack context ls`" });
      return v;
    });
    out(io, formatJson(found));
  },
});
