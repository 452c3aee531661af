/**
 * The simulated host runs apps for real (the compiled daemons, dstack in-process, a temp --prefix, the engine of
 * test/helpers/engine.ts): `dstack run` → HTTP 200 from the container through the VMM's port
 * mapping; two VMs publishing port 80 inside; stop closes the port and start reopens it;
 * a `-e` secret reaches the container and nothing under the layout or in the logs; a
 * `/:/host` mount sees the VM's own dir; a revoked app boots denied with nothing running;
 * `destroy --purge` leaves the engine as it was.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { engineInventory, ensureHttpdImage, HTTPD_IMAGE, INDEX_HTML, testEngine } from "../helpers/engine.ts";
import { runBin } from "../helpers/run.ts";
import { type SimInstall, simInstall } from "../helpers/sim-install.ts";
import { grepTree } from "../helpers/tree.ts";

const engine = await testEngine();

let inst: SimInstall | undefined;
let prefix = "";
let before = "";
/** the apps' host ports: inside the port-mapping range (tcp 1-20000) */
const app = 15000 + Math.floor(Math.random() * 1000) * 4;
/** dstack in-process (the daemons the install started, and so the apps, are real processes) */
const dstack = (...args: string[]) => inst!.dstack(args);

async function get(port: number): Promise<{ status: number; body: string } | "refused"> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(5000) });
    return { status: r.status, body: await r.text() };
  } catch {
    return "refused";
  }
}

async function vmId(name: string): Promise<string> {
  const ins = await dstack("inspect", name);
  return JSON.parse(ins.stdout).id as string;
}

const running = async (id: string) =>
  (await engine!.docker("ps", "-q", "--filter", `label=io.dstack-sim.vm=${id}`)).stdout.trim().split("\n").filter(Boolean);

describe.skipIf(!engine)("apps run in containers on a simulated host", () => {
  beforeAll(async () => {
    await ensureHttpdImage(engine!);
    before = await engineInventory(engine!);
    inst = await simInstall("dstack-rt", { runtime: "docker", inProcess: true });
    prefix = inst.prefix;
  }, 60_000);

  afterAll(async () => {
    if (prefix) await inst?.destroy();
  });

  test("status names the engine; run → 200 from the container on the mapped port", async () => {
    const st = await runBin("dstackup", ["status", "--prefix", prefix]);
    expect(st.stdout).toMatch(/^runtime: docker .* apps run in containers$/m);
    const r = await dstack("run", HTTPD_IMAGE, "--name", "web", "-p", `${app + 0}:80`);
    expect(r.code).toBe(0);
    expect(await get(app + 0)).toEqual({ status: 200, body: INDEX_HTML });
    const logs = await dstack("logs", "web");
    expect(logs.stdout).toContain("Starting containers with runner=docker-compose");
    expect(logs.stdout).toContain("boot progress: done");
  }, 90_000);

  test("two VMs both publish port 80 inside and serve on their own host ports", async () => {
    const r = await dstack("run", HTTPD_IMAGE, "--name", "web2", "-p", `${app + 1}:80`);
    expect(r.code).toBe(0);
    expect(await get(app + 0)).toMatchObject({ status: 200 });
    expect(await get(app + 1)).toEqual({ status: 200, body: INDEX_HTML });
  }, 90_000);

  test("stop closes the port and stops the containers; start reopens it", async () => {
    const id = await vmId("web2");
    expect((await dstack("stop", "web2")).code).toBe(0);
    expect(await get(app + 1)).toBe("refused");
    expect(await running(id)).toEqual([]);
    expect((await dstack("start", "web2")).code).toBe(0);
    expect(await get(app + 1)).toEqual({ status: 200, body: INDEX_HTML });
  }, 90_000);

  test("upgrade --restart: the new compose runs (the project is recreated), on the same mapping", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dstack-rt-upgrade-"));
    const file = join(dir, "docker-compose.yaml");
    writeFileSync(
      file,
      [
        "services:",
        "  app:",
        `    image: ${HTTPD_IMAGE}`,
        `    command: ["/bin/sh", "-c", "echo version-2 > /www/index.html; exec /bin/busybox httpd -f -p 80 -h /www"]`,
        '    ports: ["80:80"]',
        "",
      ].join("\n"),
    );
    const r = await dstack("upgrade", "web2", "-c", file, "--restart");
    expect(r.code).toBe(0);
    expect(await get(app + 1)).toEqual({ status: 200, body: "version-2\n" });
  }, 90_000);

  test("a -e secret is in the container's environment, nowhere under the layout, in no log", async () => {
    const secret = `s3cret-${crypto.randomUUID()}`;
    const r = await dstack("run", HTTPD_IMAGE, "--name", "sec", "-e", `SECRET=${secret}`, "-p", `${app + 2}:80`);
    expect(r.code).toBe(0);
    const [cid] = await running(await vmId("sec"));
    const env = await engine!.docker("exec", cid!, "/bin/env");
    expect(env.stdout).toContain(`SECRET=${secret}`);
    expect(grepTree(prefix, secret)).toEqual([]);
    for (const ch of ["serial", "stdout", "stderr"]) expect((await dstack("logs", "sec", "--ch", ch)).stdout).not.toContain(secret);
    expect(r.stdout + r.stderr).not.toContain(secret);
  }, 90_000);

  test("guest paths stay in the guest: /:/host sees the VM's dir, docker.sock is not the host's; the container's output is on the serial log", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dstack-rt-compose-"));
    const file = join(dir, "docker-compose.yaml");
    writeFileSync(
      file,
      [
        "services:",
        "  probe:",
        `    image: ${HTTPD_IMAGE}`,
        `    command: ["/bin/sh", "-c", "echo probe-says-hello; echo probe-on-stderr >&2; exec /bin/busybox httpd -f -p 80 -h /www"]`,
        "    volumes:",
        "      - /:/host",
        "      - /var/run/docker.sock:/var/run/docker.sock",
        "      - /var/run/dstack.sock:/var/run/dstack.sock",
        "      - ./data:/data",
        "",
      ].join("\n"),
    );
    const r = await dstack("deploy", file, "--name", "paths");
    expect(r.code).toBe(0);
    const id = await vmId("paths");
    const [cid] = await running(id);
    const ls = await engine!.docker("exec", cid!, "/bin/ls", "/host", "/host/dstack");
    expect(ls.stdout).toContain("app-compose.json");
    expect(ls.stdout).not.toContain("etc"); // not the host's root
    expect((await engine!.docker("exec", cid!, "/bin/touch", "/data/written")).code).toBe(0);
    const guest = join(prefix, "var/lib/dstack/vm", id, "guest");
    expect(statSync(join(guest, "dstack/data/written")).isFile()).toBe(true);
    const sock = await engine!.docker("exec", cid!, "/bin/sh", "-c", "[ -S /var/run/docker.sock ] && echo socket || echo none");
    expect(sock.stdout.trim()).toBe("none");
    // the VM's own guest agent is at its /var/run/dstack.sock, in the container and under the guest root
    const agent = await engine!.docker("exec", cid!, "/bin/sh", "-c", "[ -S /var/run/dstack.sock ] && echo socket || echo none");
    expect(agent.stdout.trim()).toBe("socket");
    const info = await fetch("http://localhost/Info", { method: "POST", body: "{}", unix: join(guest, "run/dstack.sock") } as RequestInit);
    expect(((await info.json()) as { app_id: string }).app_id).toBe(JSON.parse((await dstack("inspect", "paths")).stdout).app_id);
    // stdout and stderr of the container follow the boot steps on the serial log
    let serial = "";
    for (let i = 0; i < 50 && !serial.includes("probe-on-stderr"); i++) {
      serial = (await dstack("logs", "paths")).stdout;
      await Bun.sleep(100);
    }
    expect(serial).toMatch(/^probe[-_]1 +\| probe-says-hello$/m);
    expect(serial).toMatch(/^probe[-_]1 +\| probe-on-stderr$/m);
    expect(serial.indexOf("boot progress: starting containers")).toBeLessThan(serial.indexOf("probe-says-hello"));
  }, 90_000);

  test("allowlist revoke + restart: the boot is denied, nothing runs, the port refuses", async () => {
    const id = await vmId("web");
    expect((await dstack("allowlist", "revoke", "web")).code).toBe(0);
    const r = await dstack("restart", "web");
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain("denied");
    expect(await running(id)).toEqual([]);
    expect(await get(app + 0)).toBe("refused");
  }, 90_000);

  test("destroy --purge leaves the engine as it was", async () => {
    const r = await runBin("dstackup", ["destroy", "--purge", "-y", "-q", "--prefix", prefix]);
    expect(r.code).toBe(0);
    prefix = "";
    expect(await engineInventory(engine!)).toBe(before);
  }, 90_000);
});
