/**
 * install --build-from-source with stand-in git and cargo programs: the
 * sources are cloned into the cache, built with cargo into the cache's target
 * dir, and the binaries installed into libexec; vmm.toml points at them.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../helpers/cli.ts";

function standIns(): { bin: string; log: string } {
  const dir = mkdtempSync(join(tmpdir(), "standins-"));
  const bin = join(dir, "bin");
  mkdirSync(bin);
  const log = join(dir, "calls.log");
  writeFileSync(
    join(bin, "git"),
    `#!/bin/sh
echo "git $*" >> ${log}
if [ "$1" = clone ]; then mkdir -p "$3/.git" "$3/vmm" "$3/supervisor"; echo '[workspace]' > "$3/Cargo.toml"; fi
# origin/main is a branch; anything else (v0.6.0) is a tag
if [ "$1" = rev-parse ] && [ "$2" = --verify ]; then [ "$4" = origin/main ]; exit $?; fi
if [ "$1" = rev-parse ] && [ "$2" = HEAD ]; then echo 0123456789abcdef0123456789abcdef01234567; fi
exit 0
`,
    { mode: 0o755 },
  );
  writeFileSync(
    join(bin, "cargo"),
    `#!/bin/sh
echo "cargo $* (cwd $(pwd))" >> ${log}
t=""
while [ $# -gt 0 ]; do [ "$1" = --target-dir ] && t="$2"; shift; done
mkdir -p "$t/release"
printf '#!/bin/sh\\necho built-vmm\\n' > "$t/release/dstack-vmm"
printf '#!/bin/sh\\necho built-supervisor\\n' > "$t/release/supervisor"
chmod +x "$t/release/dstack-vmm" "$t/release/supervisor"
`,
    { mode: 0o755 },
  );
  for (const t of ["cp", "sh", "mkdir", "printf", "chmod", "echo", "getent", "chown", "sudo", "env", "pwd"]) {
    const real = Bun.which(t);
    if (real) Bun.spawnSync(["ln", "-s", real, join(bin, t)]);
  }
  return { bin, log };
}

/** The flags of a systemd install of a TDX host into prefix that skips the checks a test machine fails, with no KMS. */
function hostFlags(prefix: string): string[] {
  const base = 28000 + Math.floor(Math.random() * 2000);
  const flags = ["--no-kms", "--service-manager", "systemd", "--ignore-preflight-errors", "platform,kvm,qemu,service-manager"];
  return [...flags, "--prefix", prefix, "--dashboard-port", String(base), "--auth-port", String(base + 1)];
}

/** A new prefix and the knobs of a TDX host (a cpuinfo that says so) whose tools are the stand-ins in bin. */
function tdxHost(bin: string): { prefix: string; env: { knobs: { toolPath: string; cpuinfo: string } } } {
  const prefix = mkdtempSync(join(tmpdir(), "bfs-"));
  const cpu = join(mkdtempSync(join(tmpdir(), "bfs-cpu-")), "cpuinfo");
  writeFileSync(cpu, "flags\t\t: fpu tdx_host_platform\n");
  return { prefix, env: { knobs: { toolPath: bin, cpuinfo: cpu } } };
}

const FROM_SOURCE = ["--build-from-source", "--source-repo", "https://example.invalid/dstack.git"];

// The commands run in-process and read the sudo user from this process's environment: none,
// unless a test sets one (as \`sudo\` would).
const sudoUser = process.env.SUDO_USER;
beforeAll(() => {
  delete process.env.SUDO_USER;
});
afterAll(() => {
  if (sudoUser !== undefined) process.env.SUDO_USER = sudoUser;
});

describe("dstackup install --build-from-source", () => {
  test("clones, builds with cargo into the cache and installs dstack-vmm and supervisor into libexec", async () => {
    const { bin, log } = standIns();
    const { prefix, env } = tdxHost(bin);
    const args = ["install", ...FROM_SOURCE, "--source-ref", "v0.6.0", "--no-start", ...hostFlags(prefix)];
    const r = await runCli("dstackup", args, env);
    expect(r.stderr).toContain("will be built from https://example.invalid/dstack.git (v0.6.0)");
    expect(r.code).toBe(0);
    const calls = readFileSync(log, "utf8");
    expect(calls).toContain(`git clone https://example.invalid/dstack.git ${join(prefix, "var/cache/dstack/source")}`);
    expect(calls).toContain("git checkout --detach v0.6.0");
    expect(calls).toMatch(
      new RegExp(
        `cargo build --release --target-dir ${join(prefix, "var/cache/dstack/target")} -p dstack-vmm -p supervisor \\(cwd ${join(prefix, "var/cache/dstack/source")}\\)`,
      ),
    );
    for (const b of ["dstack-vmm", "supervisor"]) {
      const p = join(prefix, "libexec/dstack", b);
      expect(statSync(p).mode & 0o755).toBe(0o755);
      expect(readFileSync(p, "utf8")).toContain(`built-${b === "dstack-vmm" ? "vmm" : "supervisor"}`);
    }
    expect(readFileSync(join(prefix, "etc/dstack/vmm.toml"), "utf8")).toContain(`exe = "${join(prefix, "libexec/dstack/supervisor")}"`);
    expect(r.stderr).toContain("--no-start");

    // the same commit again: no rebuild; a branch ref builds what the remote has now
    const again = await runCli(
      "dstackup",
      args.map((a) => (a === "v0.6.0" ? "main" : a)),
      env,
    );
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("already built from 0123456789ab (unchanged, not rebuilt)");
    const calls2 = readFileSync(log, "utf8").slice(calls.length);
    expect(calls2).toContain("git fetch --tags origin");
    expect(calls2).toContain("git checkout --detach origin/main");
    expect(calls2).not.toContain("cargo build");
  });

  test("under sudo, git and cargo run as the invoking user (sudo -H -u USER) with that user's ~/.cargo/bin PATH", async () => {
    const { bin, log } = standIns();
    // stand-ins for getent (the user's home) and sudo (logs, then runs the command as given)
    for (const f of ["getent", "sudo"]) Bun.spawnSync(["rm", "-f", join(bin, f)]);
    writeFileSync(join(bin, "getent"), `#!/bin/sh\n[ "$2" = builder ] && echo "builder:x:1000:1000::/home/builder:/bin/sh"\n`, {
      mode: 0o755,
    });
    writeFileSync(join(bin, "sudo"), `#!/bin/sh\necho "sudo $*" >> ${log}\nshift 3\nexec "$@"\n`, { mode: 0o755 });
    const { prefix, env } = tdxHost(bin);
    process.env.SUDO_USER = "builder"; // for this call only
    const r = await runCli(
      "dstackup",
      ["install", ...FROM_SOURCE, "--source-ref", "v0.6.0", "--no-start", ...hostFlags(prefix)],
      env,
    ).finally(() => delete process.env.SUDO_USER);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("(as builder)");
    const calls = readFileSync(log, "utf8");
    expect(calls).toMatch(/^sudo -H -u builder env PATH=\S+ git clone https:\/\/example\.invalid\/dstack\.git /m);
    expect(calls).toMatch(/^sudo -H -u builder env PATH=\S+ CARGO_TARGET_DIR=\S+ cargo build --release/m);
    expect(readFileSync(join(prefix, "libexec/dstack/dstack-vmm"), "utf8")).toContain("built-vmm");
  });

  test("a failed build leaves nothing configured or started, and says so; a --source that is not a checkout is refused by preflight", async () => {
    const { bin } = standIns();
    writeFileSync(join(bin, "cargo"), "#!/bin/sh\necho 'error[E0432]: unresolved import' >&2\nexit 101\n", { mode: 0o755 });
    const { prefix, env } = tdxHost(bin);
    const common = hostFlags(prefix);
    const r = await runCli("dstackup", ["install", ...FROM_SOURCE, ...common], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("cargo build");
    expect(r.stderr).toContain("nothing was configured or started");
    expect(r.stderr).not.toContain("dstackup destroy");
    expect(existsSync(join(prefix, "etc/dstack"))).toBe(false);
    expect(existsSync(join(prefix, "var/lib/dstack/dstackup-state.json"))).toBe(false);
    expect(existsSync(join(prefix, "var/cache/dstack/source/.git"))).toBe(true); // the clone is kept for the next try

    // a clone that fails into a new prefix leaves no trace of it (no empty prefix directory)
    writeFileSync(join(bin, "git"), "#!/bin/sh\necho 'fatal: unable to access' >&2\nexit 128\n", { mode: 0o755 });
    const fresh = join(tmpdir(), `bfs-new-${process.pid}-${Date.now()}`);
    const noClone = await runCli("dstackup", ["install", ...FROM_SOURCE, ...hostFlags(fresh)], env);
    expect(noClone.code).toBe(1);
    expect(noClone.stderr).toContain("nothing was configured or started");
    expect(existsSync(fresh)).toBe(false);

    const notCheckout = mkdtempSync(join(tmpdir(), "not-dstack-"));
    const bad = await runCli("dstackup", ["install", "--build-from-source", "--source", notCheckout, ...common], env);
    expect(bad.code).toBe(4);
    expect(bad.stderr).toContain(`--source ${notCheckout} is not a dstack source checkout`);
    expect(existsSync(join(prefix, "etc/dstack"))).toBe(false);
  });

  test("without git or cargo, preflight refuses and names what is missing", async () => {
    const empty = mkdtempSync(join(tmpdir(), "nobin-"));
    const prefix = mkdtempSync(join(tmpdir(), "bfs-"));
    const r = await runCli("dstackup", ["install", "--build-from-source", ...hostFlags(prefix)], { knobs: { toolPath: empty } });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("--build-from-source needs git and cargo");
  });
});
