/**
 * Multi-call entry: the binary is `dstack`, `dstackup` or `dstack-auth`
 * depending on the name it was run as (hard links or symlinks to one file).
 * Run under any other name (e.g. `bun src/main.ts`), the first argument picks
 * the tool: `bun src/main.ts dstackup --help`.
 */
import { basename } from "node:path";
import { runTool } from "./cmd/shared/cli.ts";
import { nearest } from "./core/suggest.ts";
import { isTool, tools } from "./tools.ts";

async function main(): Promise<number> {
  let name = basename(process.argv0);
  let args = process.argv.slice(2);
  if (!isTool(name)) {
    const first = args[0] ?? "";
    if (isTool(first)) {
      name = first;
      args = args.slice(1);
    } else {
      const known = Object.keys(tools);
      const guess = nearest(first, known);
      process.stderr.write(
        `${basename(process.argv0)}: run as one of ${known.join(", ")} (a link to this binary), or name the tool first: \`${basename(process.argv0)} dstack --help\`` +
          (first && guess ? ` — did you mean "${guess}"?` : "") +
          "\n",
      );
      return 2;
    }
  }
  if (!isTool(name)) return 2;
  const root = await tools[name]();
  return runTool(name, root, args);
}

process.exit(await main());
