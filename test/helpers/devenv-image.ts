/**
 * `local/devenv:test`, an image with an SSH server for the dev-environment tests, built without a
 * registry: this machine's OpenSSH sshd and ssh-keygen and curl with the shared libraries ldd
 * names, busybox-static for /bin (sh and every applet), an /etc/passwd with root and sshd's
 * privilege-separation user, imported with `docker import`. `local/devenv-bare:test` is the same
 * without the three binaries, which a stand-in `apt-get install` copies in from /opt/stash: the
 * dev script's path for images that lack them. Built once per engine (a second call finds them).
 */
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { runTool } from "../../src/host/runner.ts";
import type { TestEngine } from "./engine.ts";

export const DEVENV_IMAGE = "local/devenv:test";
export const DEVENV_BARE_IMAGE = "local/devenv-bare:test";
/** What the stand-in apt-get writes its arguments to. */
export const APT_GET_ARGS = "/tmp/apt-get-args";
const BINARIES = ["/usr/sbin/sshd", "/usr/bin/ssh-keygen", "/usr/bin/curl"];

/** The shared objects a dynamic binary loads (the loader too), as ldd resolves them. */
async function sharedLibraries(binary: string): Promise<string[]> {
  const r = await runTool(["ldd", binary]);
  if (r.code !== 0) throw new Error(`ldd ${binary}: ${r.stderr}`);
  return r.stdout.split("\n").flatMap((l) => {
    const m = /=>\s*(\/\S+)/.exec(l) ?? /^\s*(\/\S+)\s+\(/.exec(l);
    return m ? [m[1]!] : [];
  });
}

function place(root: string, path: string): void {
  mkdirSync(join(root, dirname(path)), { recursive: true });
  copyFileSync(path, join(root, path));
}

/** The stand-in: `update` does nothing, `install` puts the stashed binaries where the packages would. */
const APT_GET = `#!/bin/sh
case "$1" in
  update) exit 0 ;;
  install) echo "$*" > ${APT_GET_ARGS}; ${BINARIES.map((b) => `cp /opt/stash${b} ${b}`).join(" && ")} ;;
  *) exit 100 ;;
esac
`;

async function importRootfs(e: TestEngine, root: string, tar: string, image: string): Promise<void> {
  const t = await runTool(["tar", "-C", root, "-cf", tar, "."]);
  if (t.code !== 0) throw new Error(`tar: ${t.stderr}`);
  const r = await e.docker(
    "import",
    "--change",
    'CMD ["/bin/sh"]',
    "--change",
    "ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root",
    tar,
    image,
  );
  if (r.code !== 0) throw new Error(`docker import: ${r.stderr}`);
}

export async function ensureDevEnvImages(e: TestEngine): Promise<void> {
  const have = async (image: string) => (await e.docker("image", "inspect", image)).code === 0;
  if ((await have(DEVENV_IMAGE)) && (await have(DEVENV_BARE_IMAGE))) return;
  const busybox = Bun.which("busybox", { PATH: "/usr/bin:/bin" });
  if (!busybox) throw new Error("busybox-static is not installed (apt-get install busybox-static)");
  for (const b of BINARIES) if (!Bun.which(b)) throw new Error(`${b} is not installed (apt-get install openssh-server curl)`);
  const dir = mkdtempSync(join(tmpdir(), "devenv-rootfs-"));
  try {
    const root = join(dir, "rootfs");
    for (const d of ["bin", "etc", "root", "tmp", "run", "var/run"]) mkdirSync(join(root, d), { recursive: true });
    chmodSync(join(root, "tmp"), 0o1777);
    copyFileSync(busybox, join(root, "bin", "busybox"));
    const applets = (await runTool([busybox, "--list"])).stdout.trim().split("\n");
    for (const a of applets) if (a !== "busybox") await runTool(["ln", "-sf", "busybox", join(root, "bin", a)]);
    const libs = new Set<string>();
    for (const b of BINARIES) {
      place(root, b);
      for (const l of await sharedLibraries(b)) libs.add(l);
    }
    for (const l of libs) place(root, l);
    writeFileSync(
      join(root, "etc", "passwd"),
      "root:x:0:0:root:/root:/bin/sh\nsshd:x:100:65534::/run/sshd:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    );
    writeFileSync(join(root, "etc", "group"), "root:x:0:\nnogroup:x:65534:\n");
    const tar = join(dir, "rootfs.tar");
    await importRootfs(e, root, tar, DEVENV_IMAGE);
    for (const b of BINARIES) {
      mkdirSync(join(root, "opt/stash", dirname(b)), { recursive: true });
      renameSync(join(root, b), join(root, "opt/stash", b));
    }
    writeFileSync(join(root, "usr/bin/apt-get"), APT_GET, { mode: 0o755 });
    await importRootfs(e, root, tar, DEVENV_BARE_IMAGE);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
