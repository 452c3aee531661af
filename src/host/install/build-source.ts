/**
 * `--build-from-source`: fetch the dstack sources and build dstack-vmm and
 * supervisor with cargo — as the invoking sudo user (never as root), as
 * upstream does (Dstack-TEE/dstack: dstack/crates/dstackup/src/install.rs) — then install them into libexec.
 * git and cargo run with argv arrays and a fixed PATH (the build user's
 * ~/.cargo/bin first).
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DstackError } from "../../core/errors.ts";
import { readTextIfExists } from "../../core/fsutil.ts";
import { knobs } from "../../core/knobs.ts";
import type { Progress } from "../../core/progress.ts";
import { runTool, SANITISED_PATH, toolPath } from "../runner.ts";

export interface SourceBuild {
  /** a checkout to build as is, else the cache is cloned/updated */
  source?: string | undefined;
  repo: string;
  ref: string;
  cacheDir: string;
  libexecDir: string;
}

interface BuildUser {
  name: string;
  home: string;
}

/** The sudo user to build as (not root), if any, with the home getent gives. */
export function buildUser(): BuildUser | undefined {
  const u = process.env.SUDO_USER;
  if (!u || u === "root") return undefined;
  const r = Bun.spawnSync(["getent", "passwd", u], { env: { PATH: toolPath() }, stderr: "ignore" });
  const home = r.stdout.toString().trim().split(":")[5];
  return home ? { name: u, home } : undefined;
}

/** The PATH git and cargo run with, and preflight searches: the build user's ~/.cargo/bin first. */
export function buildToolPath(user: BuildUser | undefined = buildUser()): string {
  const k = knobs().toolPath;
  if (k) return k;
  const home = user?.home ?? process.env.HOME;
  return `${home ? `${home}/.cargo/bin:` : ""}/usr/local/sbin:/usr/local/bin:${SANITISED_PATH}`;
}

function as(user: BuildUser | undefined, argv: string[], extraEnv: Record<string, string> = {}): string[] {
  if (!user) return argv;
  const env = Object.entries({ PATH: buildToolPath(user), ...extraEnv }).map(([k, v]) => `${k}=${v}`);
  return ["sudo", "-H", "-u", user.name, "env", ...env, ...argv];
}

async function run(
  user: BuildUser | undefined,
  argv: string[],
  what: string,
  cwd?: string,
  env: Record<string, string> = {},
): Promise<string> {
  const r = await runTool(as(user, argv, env), { ...(cwd ? { cwd } : {}), env, path: buildToolPath(user), timeoutMs: 3_600_000 });
  if (r.code !== 0)
    throw new DstackError(`${what} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().split("\n").slice(-5).join("\n")}`);
  return r.stdout;
}

/** A dstack checkout: Cargo.toml plus the vmm and supervisor crates, at D or D/dstack. */
export function coreDir(dir: string): string | undefined {
  for (const d of [dir, join(dir, "dstack")]) {
    if (existsSync(join(d, "Cargo.toml")) && existsSync(join(d, "vmm")) && existsSync(join(d, "supervisor"))) return d;
  }
  return undefined;
}

export async function buildFromSource(b: SourceBuild, p: Progress): Promise<{ vmmBin: string; supervisorBin: string; built: boolean }> {
  const user = buildUser();
  let src = b.source;
  if (!src) {
    src = join(b.cacheDir, "source");
    mkdirSync(b.cacheDir, { recursive: true, mode: 0o755 });
    if (user) await runTool(["chown", user.name, b.cacheDir]);
    if (existsSync(join(src, ".git"))) {
      p.step(`updating ${src} (${b.ref})`);
      await run(user, ["git", "fetch", "--tags", "origin"], "git fetch", src);
    } else if (existsSync(src)) {
      throw new DstackError(`${src} exists but is not a dstack git checkout; pass --source DIR or remove the cache`);
    } else {
      p.step(`cloning ${b.repo} (${b.ref}) into ${src}`);
      await run(user, ["git", "clone", b.repo, src], `cloning dstack source from ${b.repo}`);
    }
    // A branch builds what the remote has now, not what an earlier fetch left checked out.
    const isBranch =
      (await runTool(as(user, ["git", "rev-parse", "--verify", "-q", `origin/${b.ref}`]), { cwd: src, path: buildToolPath(user) })).code ===
      0;
    await run(user, ["git", "checkout", "--detach", isBranch ? `origin/${b.ref}` : b.ref], `git checkout ${b.ref}`, src);
  }
  // The same commit already built and installed: nothing to do (no rebuild, no VMM restart).
  const head = (await runTool(as(user, ["git", "rev-parse", "HEAD"]), { cwd: src, path: buildToolPath(user) })).stdout.trim();
  const stamp = join(b.cacheDir, "built-commit");
  const dests = [join(b.libexecDir, "dstack-vmm"), join(b.libexecDir, "supervisor")];
  if (/^[0-9a-f]{7,64}$/.test(head) && readTextIfExists(stamp) === `${head} ${src}` && dests.every((d) => existsSync(d))) {
    p.ok(`dstack-vmm and supervisor already built from ${head.slice(0, 12)} (unchanged, not rebuilt)`);
    return { vmmBin: dests[0]!, supervisorBin: dests[1]!, built: false };
  }
  const core = coreDir(src);
  if (!core) throw new DstackError(`${src} is not a dstack source checkout (no Cargo.toml with vmm/ and supervisor/)`);
  const target = join(b.cacheDir, "target");
  p.step(`cargo build --release -p dstack-vmm -p supervisor${user ? ` (as ${user.name})` : ""}; this takes a while`);
  await run(user, ["cargo", "build", "--release", "--target-dir", target, "-p", "dstack-vmm", "-p", "supervisor"], "cargo build", core, {
    CARGO_TARGET_DIR: target,
  });
  mkdirSync(b.libexecDir, { recursive: true, mode: 0o755 });
  const out: Record<string, string> = {};
  for (const [bin, name] of [
    ["dstack-vmm", "dstack-vmm"],
    ["supervisor", "supervisor"],
  ] as const) {
    const built = join(target, "release", bin);
    if (!existsSync(built)) throw new DstackError(`expected built binary ${built}`);
    const dest = join(b.libexecDir, name);
    copyFileSync(built, `${dest}.new`);
    chmodSync(`${dest}.new`, 0o755);
    renameSync(`${dest}.new`, dest);
    out[name] = dest;
  }
  p.ok(`built and installed ${out["dstack-vmm"]} and ${out.supervisor}`);
  if (/^[0-9a-f]{7,64}$/.test(head)) writeFileSync(stamp, `${head} ${src}`);
  return { vmmBin: out["dstack-vmm"]!, supervisorBin: out.supervisor!, built: true };
}
