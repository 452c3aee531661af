/**
 * One `bun build --compile` of src/main.ts for a target, the same bytes wherever the checkout
 * sits and whatever the environment: Bun inlines a CommonJS module's __dirname/__filename as
 * the build machine's absolute path (ssh2 uses them), so they are rewritten to the compiled
 * binary's own virtual root first; and it inlines the builder's NODE_ENV (bun test sets it),
 * so the build runs in a child process without it (consola reads it at run time instead).
 */
import { join, relative } from "node:path";
import type { BunPlugin } from "bun";
import { bunTarget, findTarget, type Target, targetId } from "./targets.ts";

/** The path a compiled binary sees its embedded files under (Bun's standalone filesystem). */
const VIRTUAL_ROOT = "/$bunfs/root";

export function noBuildPaths(root: string): BunPlugin {
  return {
    name: "no-build-paths",
    setup(build) {
      build.onLoad({ filter: /[\\/]node_modules[\\/].*\.c?js$/ }, async (a) => {
        const text = await Bun.file(a.path).text();
        if (!/\b__(dirname|filename)\b/.test(text)) return undefined;
        const file = `${VIRTUAL_ROOT}/${relative(root, a.path)}`;
        const dir = file.slice(0, file.lastIndexOf("/"));
        return {
          loader: "js",
          contents: text.replace(/\b__dirname\b/g, JSON.stringify(dir)).replace(/\b__filename\b/g, JSON.stringify(file)),
        };
      });
    },
  };
}

export async function compile(root: string, target: Target, outfile: string, commit: string): Promise<void> {
  const env = { ...process.env };
  delete env.NODE_ENV;
  const p = Bun.spawn([process.execPath, import.meta.path, root, targetId(target), outfile, commit], {
    env,
    stdout: "inherit",
    stderr: "pipe",
  });
  const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(err.trim() || `bun build for ${bunTarget(target)} failed (exit ${code})`);
}

async function compileHere(root: string, target: Target, outfile: string, commit: string): Promise<void> {
  const r = await Bun.build({
    entrypoints: [join(root, "src/main.ts")],
    compile: { target: bunTarget(target) as Bun.Build.CompileTarget, outfile, autoloadDotenv: false, autoloadBunfig: false },
    minify: true,
    // bytecode needs ESM here: with CJS it logs a failure and builds a binary that dies (oven-sh/bun#14954)
    bytecode: true,
    format: "esm",
    env: "disable",
    define: { __DSTACK_COMMIT__: JSON.stringify(commit) },
    plugins: [noBuildPaths(root)],
    throw: false,
  });
  const log = r.logs.map(String).join("\n");
  if (!r.success || /Failed to generate bytecode/i.test(log)) throw new Error(`bun build for ${bunTarget(target)} failed:\n${log}`);
}

if (import.meta.main) {
  const [root, id, outfile, commit] = process.argv.slice(2) as [string, string, string, string];
  compileHere(root, findTarget(id), outfile, commit).catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
