/**
 * Test preload: makes sure dist/ holds a binary built from the current sources,
 * so `bun test` alone is enough (tests run the compiled binary).
 * Set DSTACK_SKIP_BUILD=1 to use dist/ as it is.
 * Once the run's tests are done, it stops what the helpers started and no test stopped (cleanup.ts).
 */
import { afterAll } from "bun:test";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { stopAllTracked } from "./helpers/cleanup.ts";

afterAll(stopAllTracked);

const root = join(import.meta.dir, "..");
const bin = join(root, "dist", "dstack");

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return newest;
}

if (!process.env.DSTACK_SKIP_BUILD) {
  const stale =
    !existsSync(bin) || statSync(bin).mtimeMs < Math.max(newestSource(join(root, "src")), statSync(join(root, "package.json")).mtimeMs);
  if (stale) {
    const r = Bun.spawnSync([process.execPath, "scripts/build.ts"], { cwd: root, stdout: "ignore", stderr: "inherit" });
    if (r.exitCode !== 0) throw new Error("test preload: `bun run build` failed");
  }
}
