/**
 * The dependency rules of src/ (docs/architecture.md), checked on every import — type-only
 * imports and re-exports included, since a reader follows them too:
 *
 *   1. no import cycles;
 *   2. each room imports only the rooms below it (RULES);
 *   3. nothing imports src/cmd but the entry (src/main.ts, src/tools.ts), and one tool's
 *      commands never import another tool's (cmd/shared is for all of them).
 *
 * Prints every violation and exits 1 when there is one. Usage: bun scripts/check-deps.ts [SRC_DIR]
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

/** room → the rooms it may import (besides itself). A room is the first folder under src/. */
export const RULES: Record<string, string[]> = {
  core: [],
  auth: ["core"],
  host: ["core", "auth"],
  client: ["core", "auth", "host"],
  sim: ["core", "auth", "host"],
  cmd: ["core", "auth", "host", "client", "sim"],
  entry: ["cmd", "core"],
};

function listTs(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return listTs(p);
    return name.endsWith(".ts") ? [p] : [];
  });
}

/** Relative specifiers of every import, export-from and dynamic import, comments removed. */
export function importsOf(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
  const specs: string[] = [];
  const patterns = [
    /\b(?:import|export)\b[^;"'`]*?\bfrom\s*["']([^"']+)["']/g,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
    /^\s*import\s*["']([^"']+)["']/gm,
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) specs.push(m[1]!);
  return specs.filter((s) => s.startsWith("."));
}

/** Every violation of the rules in the tree under srcDir, as one line each. */
export function checkDeps(srcDir: string): { files: number; imports: number; problems: string[] } {
  function roomOf(file: string): string {
    const rel = relative(srcDir, file);
    const first = rel.split("/")[0]!;
    return rel.includes("/") ? first : "entry";
  }

  function toolOf(file: string): string | undefined {
    const parts = relative(srcDir, file).split("/");
    return parts[0] === "cmd" ? parts[1] : undefined;
  }

  const files = listTs(srcDir);
  const graph = new Map<string, string[]>();
  const problems: string[] = [];
  const show = (f: string) => relative(join(srcDir, ".."), f);

  for (const file of files) {
    const deps: string[] = [];
    for (const spec of importsOf(readFileSync(file, "utf8"))) {
      const target = resolve(dirname(file), spec);
      if (!target.endsWith(".ts")) continue; // data (package.json)
      if (!files.includes(target)) {
        problems.push(`${show(file)}: imports ${spec}, which is not a file under src/`);
        continue;
      }
      deps.push(target);
      const from = roomOf(file);
      const to = roomOf(target);
      if (from !== to && !(RULES[from] ?? []).includes(to)) {
        problems.push(
          `${show(file)}: room ${from} may not import room ${to} (${show(target)}); allowed: ${(RULES[from] ?? []).join(", ") || "none"}`,
        );
      }
      const [ta, tb] = [toolOf(file), toolOf(target)];
      if (ta && tb && ta !== tb && ta !== "shared" && tb !== "shared") {
        problems.push(`${show(file)}: cmd/${ta} may not import cmd/${tb} (${show(target)}); share code through cmd/shared or a room below`);
      }
    }
    graph.set(file, deps);
  }

  // Cycles: depth-first search; each back edge closes a cycle, reported once by its member set.
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const seen = new Set<string>();
  function visit(f: string): void {
    state.set(f, 1);
    stack.push(f);
    for (const d of graph.get(f) ?? []) {
      if (state.get(d) === 1) {
        const cycle = stack.slice(stack.indexOf(d));
        const key = [...cycle].sort().join("|");
        if (!seen.has(key)) {
          seen.add(key);
          problems.push(`import cycle: ${[...cycle, d].map(show).join(" → ")}`);
        }
      } else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(f, 2);
  }
  for (const f of files) if (!state.has(f)) visit(f);
  return { files: files.length, imports: [...graph.values()].reduce((n, d) => n + d.length, 0), problems };
}

if (import.meta.main) {
  const r = checkDeps(resolve(process.argv[2] ?? join(import.meta.dir, "..", "src")));
  for (const p of r.problems) console.error(p);
  console.log(`check-deps: ${r.files} files, ${r.imports} imports, ${r.problems.length} problem(s)`);
  process.exit(r.problems.length ? 1 : 0);
}
