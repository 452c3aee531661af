/**
 * The host key functions run for real under dash, bash and busybox sh: the PEM they make from a
 * scalar is the P-256 key Node computes from it (checked through ssh-keygen -y), and
 * dstack_host_key against a fake guest agent (GetKey, GetQuote) prints a line that parses, whose
 * report data commits to the key.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createECDH, createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AGENT_SOCKET, hostKeyFunctions } from "../../../../src/core/dev-env/cvm/host-key-script.ts";
import {
  AUTHORIZED_KEYS_ENV,
  authorizedKeysSha256,
  hostKeyReportData,
  parseHostKeyLine,
} from "../../../../src/core/dev-env/host-key-line.ts";

/** busybox sh runs with busybox's own applets (base64, sha512sum, sed, tr, printf) first on PATH, as on Alpine. */
const SHELLS = [["dash"], ["bash"], ["busybox", "sh"]].filter(([b]) => Bun.which(b!, { PATH: "/usr/bin:/bin" }));
const APPLETS = ["base64", "sha512sum", "sha256sum", "sed", "tr", "printf", "cat"];
const KEYS = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMine me@laptop\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITwo two@laptop";

function sshBlob(scalarHex: string): string {
  const ecdh = createECDH("prime256v1");
  ecdh.setPrivateKey(Buffer.from(scalarHex, "hex"));
  const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, (b.length >> 8) & 255, b.length & 255]), b]);
  return Buffer.concat([str(Buffer.from("ecdsa-sha2-nistp256")), str(Buffer.from("nistp256")), str(ecdh.getPublicKey())]).toString(
    "base64",
  );
}

/** Async: the fake agent below answers from this process's event loop. */
async function sh(shell: string[], script: string, args: string[] = [], env: Record<string, string> = {}) {
  const PATH = shell[0] === "busybox" ? `${join(dir, "applets")}:/usr/bin:/bin` : "/usr/bin:/bin";
  const p = Bun.spawn([...shell, "-c", script, "test", ...args], { env: { PATH, ...env }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

let dir = "";
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "host-key-script-"));
  mkdirSync(join(dir, "applets"));
  const busybox = Bun.which("busybox", { PATH: "/usr/bin:/bin" });
  if (busybox) for (const a of APPLETS) symlinkSync(busybox, join(dir, "applets", a));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(SHELLS)("under %s", (...shell) => {
  test("dstack_ec_key: the PEM holds the scalar's P-256 key, mode 0600; zero bytes, % and \\ survive", async () => {
    for (const hex of [randomBytes(32).toString("hex"), `00250a5c0d22${"00".repeat(25)}ff`]) {
      const file = join(dir, `k-${shell.join("")}-${hex.slice(0, 8)}`);
      const r = await sh(shell, `${hostKeyFunctions()}dstack_ec_key "$1" "$2" && ssh-keygen -y -f "$2"`, [hex, file]);
      expect(r.stderr).toBe("");
      expect(r.stdout.trim()).toBe(`ecdsa-sha2-nistp256 ${sshBlob(hex)}`);
      expect(statSync(file).mode & 0o777).toBe(0o600);
    }
  });

  test("dstack_ec_key refuses what is not 32 bytes of hex", async () => {
    for (const bad of ["", "abcd", `${"0".repeat(63)}g`, "0".repeat(66)]) {
      expect((await sh(shell, `${hostKeyFunctions()}dstack_ec_key "$1" "$2"`, [bad, join(dir, "bad")])).code).not.toBe(0);
    }
  });
});

describe.each(SHELLS)("dstack_host_key against a fake guest agent, under %s", (...shell) => {
  const scalar = randomBytes(32).toString("hex");
  const requests: { path: string; body: Record<string, unknown> }[] = [];
  let server: ReturnType<typeof Bun.serve> | undefined;
  let socket = "";
  beforeAll(() => {
    socket = join(dir, `agent-${shell.join("")}.sock`);
    server = Bun.serve({
      unix: socket,
      async fetch(req) {
        const path = new URL(req.url).pathname;
        const body = (await req.json()) as Record<string, unknown>;
        requests.push({ path, body });
        if (path === "/GetKey") return Response.json({ key: scalar, signature_chain: ["aa", "bb"] });
        if (path === "/GetQuote") {
          const rd = String(body.report_data);
          return Response.json({
            quote: `04${rd}`,
            event_log: JSON.stringify([{ imr: 3, event: "app-id" }]),
            report_data: rd,
            vm_config: "{}",
          });
        }
        return Response.json({ error: "method not found" }, { status: 400 });
      },
    });
  });
  afterAll(() => server?.stop(true));

  test("the line carries the derived key, the authorized keys' digest and a quote for both; the key's path names the keys", async () => {
    const file = join(dir, `host-${shell.join("")}`);
    const r = await sh(shell, `${hostKeyFunctions().replaceAll(AGENT_SOCKET, socket)}dstack_host_key "$1"`, [file], {
      [AUTHORIZED_KEYS_ENV]: KEYS,
    });
    expect(r.stderr).toBe("");
    expect(r.stdout.split("\n")).toHaveLength(2);
    const a = parseHostKeyLine(r.stdout.trim())!;
    expect(a.keyType).toBe("ecdsa-sha2-nistp256");
    expect(a.keyBase64).toBe(sshBlob(scalar));
    expect(a.authorizedKeysSha256).toBe(authorizedKeysSha256(KEYS));
    const rd = Buffer.from(hostKeyReportData(a.keyType, a.keyBase64, authorizedKeysSha256(KEYS))).toString("hex");
    expect(a.reportData).toBe(rd);
    expect(Buffer.from(a.quote).toString("hex")).toBe(`04${rd}`);
    expect(
      createHash("sha512")
        .update(`dstack-ssh-host-key:${a.keyType} ${a.keyBase64} ${authorizedKeysSha256(KEYS)}`)
        .digest("hex"),
    ).toBe(rd);
    expect(requests.find((q) => q.path === "/GetKey")?.body).toEqual({
      path: `dstack/ssh-host-key/${authorizedKeysSha256(KEYS)}`,
      purpose: "ssh-host-key",
    });
  });

  test("an agent that refuses says so and fails", async () => {
    const r = await sh(shell, `${hostKeyFunctions().replaceAll(AGENT_SOCKET, join(dir, "none.sock"))}dstack_host_key "$1"`, [
      join(dir, "x"),
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("did not answer GetKey");
  });
});
