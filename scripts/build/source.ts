/** What a build stamps from its checkout: the commit (with -dirty for local changes) and its time. */
const git = (root: string, args: string[]) => Bun.spawnSync(["git", ...args], { cwd: root, stderr: "ignore" });

export function gitCommit(root: string): string {
  if (process.env.DSTACK_COMMIT) return process.env.DSTACK_COMMIT;
  const r = git(root, ["rev-parse", "--short=12", "HEAD"]);
  if (r.exitCode !== 0) return "unknown";
  const dirty = git(root, ["status", "--porcelain", "--untracked-files=no"]).stdout.toString().trim();
  return r.stdout.toString().trim() + (dirty ? "-dirty" : "");
}

/** The time stamped on every tarball entry: SOURCE_DATE_EPOCH, else the commit's time (not the clock). */
export function sourceDateEpoch(root: string): number {
  if (process.env.SOURCE_DATE_EPOCH) return Number(process.env.SOURCE_DATE_EPOCH);
  const r = git(root, ["log", "-1", "--format=%ct"]);
  return r.exitCode === 0 ? Number(r.stdout.toString().trim()) : 0;
}
