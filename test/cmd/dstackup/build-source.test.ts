/**
 * install --build-from-source with stand-in git and cargo programs: the
 * sources are cloned into the cache, built with cargo into the cache's target
 * dir, and the binaries installed into libexec; vmm.toml points at them.
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBin } from "../../helpers/run.ts";

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

describe("dstackup install --build-from-source", () => {
  test("clones, builds with cargo into the cache and installs dstack-vmm and supervisor into libexec", async () => {
    const { bin, log } = standIns();
    const prefix = mkdtempSync(join(tmpdir(), "bfs-"));
    const cpu = join(prefix, "..", `cpuinfo-${Date.now()}`);
    writeFileSync(cpu, "flags\t\t: fpu tdx_host_platform\n");
    const base = 28000 + Math.floor(Math.random() * 1000);
    const r = await runBin(
      "dstackup",
      ["install", "--build-from-source", "--source-repo", "https://example.invalid/dstack.git", "--source-ref", "v0.6.0", "--no-kms", "--no-start", "--service-manager", "systemd",
        "--ignore-preflight-errors", "platform,kvm,qemu,service-manager", "--prefix", prefix, "--dashboard-port", String(base), "--auth-port", String(base + 1)],
      { env: { DSTACK_TOOL_PATH: bin, DSTACK_CPUINFO: cpu, SUDO_USER: "" } },
    );
    expect(r.stderr).toContain("will be built from https://example.invalid/dstack.git (v0.6.0)");
    expect(r.code).toBe(0);
    const calls = readFileSync(log, "utf8");
    expect(calls).toContain(`git clone https://example.invalid/dstack.git ${join(prefix, "var/cache/dstack/source")}`);
    expect(calls).toContain("git checkout v0.6.0");
    expect(calls).toMatch(new RegExp(`cargo build --release --target-dir ${join(prefix, "var/cache/dstack/target")} -p dstack-vmm -p supervisor \\(cwd ${join(prefix, "var/cache/dstack/source")}\\)`));
    for (const b of ["dstack-vmm", "supervisor"]) {
      const p = join(prefix, "libexec/dstack", b);
      expect(statSync(p).mode & 0o755).toBe(0o755);
      expect(readFileSync(p, "utf8")).toContain(`built-${b === "dstack-vmm" ? "vmm" : "supervisor"}`);
    }
    expect(readFileSync(join(prefix, "etc/dstack/vmm.toml"), "utf8")).toContain(`exe = "${join(prefix, "libexec/dstack/supervisor")}"`);
    expect(r.stderr).toContain("--no-start");
  });

  test("without git or cargo, preflight refuses and names what is missing", async () => {
    const empty = mkdtempSync(join(tmpdir(), "nobin-"));
    const prefix = mkdtempSync(join(tmpdir(), "bfs-"));
    const r = await runBin("dstackup", ["install", "--build-from-source", "--no-kms", "--service-manager", "systemd", "--ignore-preflight-errors", "platform,kvm,qemu,service-manager", "--prefix", prefix], {
      env: { DSTACK_TOOL_PATH: empty },
    });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("--build-from-source needs git and cargo");
  });
});
