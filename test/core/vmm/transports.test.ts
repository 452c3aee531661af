/**
 * The client over each transport against the simulator: unix, http (with and
 * without the token), and ssh through an in-process ssh2 server on 127.0.0.1
 * (known_hosts match, mismatch and unknown refused, --insecure-host-key).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Server as SshServer, utils as sshUtils } from "ssh2";
import { buildAppCompose } from "../../../src/core/compose/app-compose.ts";
import { connectVmm } from "../../../src/core/vmm/client.ts";
import { knownHostMatch, parseSshHost } from "../../../src/core/vmm/transport-ssh.ts";
import { startSim, type TestSim } from "../../helpers/sim.ts";

const compose = buildAppCompose({ name: "t", dockerCompose: "services:\n  a:\n    image: x\n", kms: false }).composeFile;

describe("unix and http transports", () => {
  let unixSim: TestSim;
  let tcpSim: TestSim;
  beforeAll(() => {
    unixSim = startSim({ token: "tk" });
    tcpSim = startSim({ token: "tk", tcp: true });
  });
  afterAll(async () => {
    await unixSim.stop();
    await tcpSim.stop();
  });

  test("unix: calls, an error from the VMM, and a missing socket named with the next step", async () => {
    const c = await connectVmm({ host: unixSim.host, token: "tk" });
    const { id } = await c.createVm({ name: "u", image: "dstack-0.5.5", compose_file: compose, vcpu: 1, memory: 256, disk_size: 1 });
    expect((await c.getInfo(id)).found).toBe(true);
    await expect(c.startVm("nope")).rejects.toThrow(`VMM at ${unixSim.host} refused StartVm: Failed to start VM: VM not found`);
    const gone = await connectVmm({ host: "unix:/nonexistent/vmm.sock" });
    await expect(gone.status()).rejects.toThrow(/no VMM answers at unix:\/nonexistent\/vmm.sock — is it running\? try `dstackup status`/);
    c.close();
  });

  test("http: Bearer token; 401 without it says what to do", async () => {
    const ok = await connectVmm({ host: tcpSim.host, token: "tk" });
    expect((await ok.status()).total).toBe(0);
    const no = await connectVmm({ host: tcpSim.host });
    await expect(no.status()).rejects.toThrow(/401 unauthorized \(no token\)/);
    const refused = await connectVmm({ host: "http://127.0.0.1:1", timeoutMs: 2000 });
    await expect(refused.status()).rejects.toThrow(/no VMM answers at http:\/\/127.0.0.1:1/);
  });

  test("a hung VMM times out with a message naming the endpoint", async () => {
    const hang = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Promise<Response>(() => {}) });
    try {
      const c = await connectVmm({ host: `http://127.0.0.1:${hang.port}`, timeoutMs: 300 });
      await expect(c.status()).rejects.toThrow(/did not answer Status within/);
    } finally {
      hang.stop(true);
    }
  });

  test("unsupported host forms are usage errors", async () => {
    await expect(connectVmm({ host: "ftp://x" })).rejects.toThrow(/unsupported host/);
  });
});

/**
 * An ed25519 key pair from ssh2's generator that ssh2 itself can parse back: under Bun
 * about 1 in 400 of its keys come out malformed (seen as "Malformed OpenSSH private key").
 * Only the test makes keys this way; the product reads key files users made with ssh-keygen.
 */
function sshKeyPair(): { private: string; public: string } {
  for (let i = 0; i < 20; i++) {
    const k = sshUtils.generateKeyPairSync("ed25519");
    if (!(sshUtils.parseKey(k.private) instanceof Error) && !(sshUtils.parseKey(k.public) instanceof Error)) return k;
  }
  throw new Error("ssh2 could not make a parsable ed25519 key in 20 tries");
}

describe("ssh transport", () => {
  let sim: TestSim;
  let server: SshServer;
  let port = 0;
  let hostKeyBlob: Buffer;
  const dir = mkdtempSync(join(tmpdir(), "ssh-"));
  const clientKey = sshKeyPair();
  const idFile = join(dir, "id_ed25519");

  beforeAll(async () => {
    sim = startSim({ token: "tk", tcp: true });
    const hostKey = sshKeyPair();
    const parsedHost = sshUtils.parseKey(hostKey.private);
    if (parsedHost instanceof Error) throw parsedHost;
    hostKeyBlob = (parsedHost as { getPublicSSH(): Buffer }).getPublicSSH();
    writeFileSync(idFile, clientKey.private, { mode: 0o600 });
    const allowed = sshUtils.parseKey(clientKey.public) as unknown as { getPublicSSH(): Buffer };
    const simPort = Number(new URL(sim.host).port);
    server = new SshServer({ hostKeys: [hostKey.private] }, (client) => {
      client.on("authentication", (ctx) => {
        if (ctx.method === "publickey" && ctx.key.data.equals(allowed.getPublicSSH())) ctx.accept();
        else ctx.reject(["publickey"]);
      });
      client.on("ready", () => {
        client.on("tcpip", (accept, _reject, info) => {
          // forward only to the VMM's port on loopback, like sshd with a restricted PermitOpen
          if (info.destPort !== simPort) return _reject();
          const stream = accept();
          const sock = connect(simPort, "127.0.0.1");
          stream.pipe(sock).pipe(stream);
        });
      });
      client.on("error", () => {});
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    server.close();
    await sim.stop();
  });

  test("host parsing and known_hosts matching (plain, [host]:port, hashed)", () => {
    expect(parseSshHost("ssh://op@h.example:2222/run/dstack/vmm.sock")).toEqual({
      user: "op",
      host: "h.example",
      port: 2222,
      remote: { kind: "unix", path: "/run/dstack/vmm.sock" },
    });
    expect(parseSshHost("ssh://op@h?target=tcp:127.0.0.1:9080").remote).toEqual({ kind: "tcp", host: "127.0.0.1", port: 9080 });
    // no user in the URL: the command's USER, else root
    expect(parseSshHost("ssh://h", { USER: "alice" }).user).toBe("alice");
    expect(parseSshHost("ssh://h", {}).user).toBe("root");
    const b64 = hostKeyBlob.toString("base64");
    expect(knownHostMatch(`[127.0.0.1]:${port} ssh-ed25519 ${b64}\n`, "127.0.0.1", port, hostKeyBlob)).toBe("match");
    expect(knownHostMatch(`[127.0.0.1]:${port} ssh-ed25519 AAAA\n`, "127.0.0.1", port, hostKeyBlob)).toBe("mismatch");
    expect(knownHostMatch(`other ssh-ed25519 ${b64}\n`, "127.0.0.1", port, hostKeyBlob)).toBe("unknown");
    const salt = Buffer.from("0123456789abcdef0123");
    const { createHmac } = require("node:crypto") as typeof import("node:crypto");
    const hashed = `|1|${salt.toString("base64")}|${createHmac("sha1", salt).update(`[127.0.0.1]:${port}`).digest("base64")}`;
    expect(knownHostMatch(`${hashed} ssh-ed25519 ${b64}\n`, "127.0.0.1", port, hostKeyBlob)).toBe("match");
  });

  test("a known host key: calls go through the ssh forward to the VMM", async () => {
    const kh = join(dir, "known_hosts");
    writeFileSync(kh, `[127.0.0.1]:${port} ssh-ed25519 ${hostKeyBlob.toString("base64")}\n`);
    const simPort = new URL(sim.host).port;
    const c = await connectVmm({
      host: `ssh://tester@127.0.0.1:${port}?target=tcp:127.0.0.1:${simPort}`,
      token: "tk",
      knownHostsPath: kh,
      identityFile: idFile,
    });
    expect(c.endpoint).toContain("ssh://tester@127.0.0.1");
    expect((await c.status()).total).toBe(0);
    expect((await c.version()).rev).toContain("simulated");
    c.close();
  });

  test("a changed or unknown host key is refused; --insecure-host-key connects with a warning", async () => {
    const simPort = new URL(sim.host).port;
    const host = `ssh://tester@127.0.0.1:${port}?target=tcp:127.0.0.1:${simPort}`;
    const bad = join(dir, "bad_known_hosts");
    writeFileSync(bad, `[127.0.0.1]:${port} ssh-ed25519 ${Buffer.alloc(51, 1).toString("base64")}\n`);
    await expect(connectVmm({ host, token: "tk", knownHostsPath: bad, identityFile: idFile })).rejects.toThrow(
      /does not match .*man-in-the-middle/,
    );
    const empty = join(dir, "empty_known_hosts");
    writeFileSync(empty, "");
    await expect(connectVmm({ host, token: "tk", knownHostsPath: empty, identityFile: idFile })).rejects.toThrow(
      /refusing an unknown host key/,
    );
    const warnings: string[] = [];
    const c = await connectVmm({
      host,
      token: "tk",
      knownHostsPath: empty,
      identityFile: idFile,
      insecureHostKey: true,
      onWarning: (m) => warnings.push(m),
    });
    expect((await c.status()).total).toBe(0);
    expect(warnings[0]).toContain("not checking the host key");
    c.close();
  });

  test("the compiled binary speaks ssh too (pure-JS ssh2, no native addon): dstack ps --host ssh://…", async () => {
    const home = mkdtempSync(join(tmpdir(), "home-"));
    const { mkdirSync } = await import("node:fs");
    mkdirSync(join(home, ".ssh"), { mode: 0o700 });
    writeFileSync(join(home, ".ssh", "id_ed25519"), readKey(), { mode: 0o600 });
    writeFileSync(join(home, ".ssh", "known_hosts"), `[127.0.0.1]:${port} ssh-ed25519 ${hostKeyBlob.toString("base64")}\n`);
    const simPort = new URL(sim.host).port;
    const { runBin } = await import("../../helpers/run.ts");
    const r = await runBin(
      "dstack",
      ["ps", "-a", "--json", "--host", `ssh://tester@127.0.0.1:${port}?target=tcp:127.0.0.1:${simPort}`, "--token", "tk"],
      { env: { HOME: home, SSH_AUTH_SOCK: "" } },
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
  });

  function readKey(): string {
    return require("node:fs").readFileSync(idFile, "utf8");
  }
});
