/**
 * What an ssh:// host without our dstack gets: none on the sessions' PATH (the shell's exit 127)
 * → the command that installs it; another version → both versions and the same next step.
 * A private sshd (test/helpers/sshd.ts) whose sessions' PATH leaves the compiled binaries out;
 * the second host's "dstack" is a stand-in that answers Dstack.HostInfo as an older one would.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { version } from "../../src/core/version.ts";
import { runCli } from "../helpers/cli.ts";
import { type Sshd, SYSTEM_PATH, startSshd } from "../helpers/sshd.ts";

const fakeBin = mkdtempSync(join(tmpdir(), "old-dstack-"));
let bare: Sshd;
let old: Sshd;
const dstack = (s: Sshd, args: string[]) =>
  runCli("dstack", ["--host", `ssh://${s.user}@127.0.0.1:${s.port}?prefix=/opt/none`, ...args], {
    env: { HOME: s.home, SSH_AUTH_SOCK: "", DSTACK_HOST: "", DSTACK_CONTEXT: "" },
  });

beforeAll(async () => {
  // an HTTP/1.1 answer to every request on stdin: Dstack.HostInfo of dstack 0.0.1
  const info = JSON.stringify({
    ok: { version: "0.0.1", image: null, allowlistPath: "/x", portPolicy: null, portPolicyProblem: null, kmsSigner: null },
  });
  writeFileSync(
    join(fakeBin, "dstack"),
    `#!${process.execPath}
let buf = "";
for await (const chunk of Bun.stdin.stream()) {
  buf += new TextDecoder().decode(chunk);
  for (;;) {
    const end = buf.indexOf("\\r\\n\\r\\n");
    if (end < 0) break;
    const len = Number(/content-length: *(\\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
    if (buf.length < end + 4 + len) break;
    buf = buf.slice(end + 4 + len);
    const body = ${JSON.stringify(info)};
    process.stdout.write("HTTP/1.1 200 OK\\r\\ncontent-type: application/json\\r\\ncontent-length: " + body.length + "\\r\\n\\r\\n" + body);
  }
}
`,
  );
  chmodSync(join(fakeBin, "dstack"), 0o755);
  [bare, old] = await Promise.all([startSshd({ path: SYSTEM_PATH }), startSshd({ path: `${fakeBin}:${SYSTEM_PATH}` })]);
}, 30_000);

afterAll(async () => {
  await Promise.all([bare?.stop(), old?.stop()]);
  rmSync(fakeBin, { recursive: true, force: true });
});

test("no dstack on the host: refused, with the command that installs it", async () => {
  const r = await dstack(bare, ["ps"]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("the host's dstack could not serve: dstack: not installed on this host");
  expect(r.stderr).toContain("install dstack on the host (`curl -fsSL <release-url>/install.sh | sh`");
});

test("another version on the host: both named, and how to install ours", async () => {
  const r = await dstack(old, ["ps"]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`runs dstack 0.0.1, this is dstack ${version}: the two must match`);
  expect(r.stderr).toContain(`sh -s -- --version ${version}`);
});
