/** Each tool's page names every command the tool has (`dstack logs`, `dstackup image pull`), from the command tree itself. */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type AnyCommand, load } from "../../src/cmd/shared/command.ts";
import { tools } from "../../src/tools.ts";
import { ROOT } from "../helpers/run.ts";

/** Every command path under a command: ["logs"], ["image", "pull"], … */
async function paths(cmd: AnyCommand, prefix: string[] = []): Promise<string[][]> {
  const out: string[][] = [];
  for (const [name, sub] of Object.entries(cmd.subCommands ?? {})) {
    const c = await load(sub);
    const path = [...prefix, name];
    out.push(path, ...(await paths(c, path)));
  }
  return out;
}

const PAGES = { dstack: "docs/dstack.md", dstackup: "docs/dstackup.md", "dstack-auth": "docs/dstack-auth.md" } as const;

describe("tool pages name every command", () => {
  for (const [tool, page] of Object.entries(PAGES)) {
    test(`${page} names every ${tool} command`, async () => {
      const doc = readFileSync(join(ROOT, page), "utf8");
      const all = await paths(await tools[tool as keyof typeof PAGES]());
      expect(all.length).toBeGreaterThan(2);
      const missing = all.filter((p) => {
        const [t, ...verbs] = [tool, ...p].map((w) => w.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&"));
        // On one line: the tool, then each word of the path (`dstack --prefix P allowlist ls`).
        return !new RegExp(`(?<![\\w-])${t}(?![\\w-])${verbs.map((v) => `[^\\n]*?(?<![\\w-])${v}(?![\\w-])`).join("")}`).test(doc);
      });
      expect(missing.map((p) => `${tool} ${p.join(" ")}`)).toEqual([]);
    });
  }
});
