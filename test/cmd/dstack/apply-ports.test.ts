/**
 * `dstack apply -p/--port MAPPING` (repeatable; over the configuration's ports by container port,
 * as dstackai's _merge_ports) and `--host ADDR` (dstackai's bind address: where the run's ports
 * are published), told apart from our `--host URL` (the VMM endpoint) by form; against a
 * simulated install.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBin } from "../../helpers/run.ts";
import { type SimInstall, simInstall } from "../../helpers/sim-install.ts";

let sim: SimInstall;
let work = "";
const dstack = (args: string[]) => runBin("dstack", ["--prefix", sim.prefix, ...args], { cwd: work });
const write = (name: string, text: string) => writeFileSync(join(work, name), text);
type Port = { protocol: string; host_address: string; host_port: number; vm_port: number };
type Vm = { id: string; name: string; status: string; configuration: { ports: Port[] } };
const vmNamed = async (name: string) =>
  (JSON.parse((await dstack(["ps", "-a", "--json"])).stdout) as Vm[]).find((v) => v.name === name && v.status !== "removing");
/** Host ports of this test's own (random, inside the install's 1024-20000): other suites' VMs live on other VMMs. */
const P = 15000 + Math.floor(Math.random() * 2000);

beforeAll(async () => {
  sim = await simInstall("dstack-apply-ports");
  work = mkdtempSync(join(tmpdir(), "dstack-apply-ports-"));
  write("web.dstack.yml", "type: task\nname: web\nimage: alpine\ncommands: [sleep 600]\nports:\n  - 8080\n  - 9000:9001\n");
  write("svc.dstack.yml", "type: service\nname: svc\nimage: nginx\nport: 80\nauth: false\n");
}, 90_000);

afterAll(async () => {
  await sim.destroy();
});

describe("dstack apply -p/--port", () => {
  test("replaces the configuration's mapping for a container port and adds new ones (the plan, --json)", async () => {
    const r = await dstack(["apply", "-f", "web.dstack.yml", "--dry-run", "-p", "18081:8080", "-p", "7000", "--port=*:7001"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ Ports +localhost:18081 -> 8080, localhost:9000 -> 9001, localhost:7000 -> 7000, auto -> 7001\n/);
    const j = await dstack(["apply", "-f", "web.dstack.yml", "--dry-run", "--json", "-p", "18081:8080"]);
    expect(j.code).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({
      ports: [
        { localPort: 18081, vmPort: 8080 },
        { localPort: 9000, vmPort: 9001 },
      ],
      bind_address: "127.0.0.1",
    });
  });

  test("dstackai's errors: a local port twice, a container port twice in -p; a bad mapping; a service (exit 2)", async () => {
    const clash = await dstack(["apply", "-f", "web.dstack.yml", "--dry-run", "-p", "9000:8080"]);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toContain("-p/--port: Port 9000 is already in use");
    const twice = await dstack(["apply", "-f", "web.dstack.yml", "--dry-run", "-p", "1:80", "-p", "2:80"]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain("Port 80 is already in use");
    const bad = await dstack(["apply", "-f", "web.dstack.yml", "--dry-run", "-p", "80:x"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('-p/--port "80:x": Invalid port: "x"');
    const svc = await dstack(["apply", "-f", "svc.dstack.yml", "--dry-run", "-p", "8080:80"]);
    expect(svc.code).toBe(2);
    expect(svc.stderr).toContain("-p/--port is for tasks and dev environments, as in dstackai: a service publishes its port:");
  });
});

describe("dstack apply --host", () => {
  test("an address (an IP, or localhost) is where the ports bind; an endpoint is still the VMM; both at once", async () => {
    const any = await dstack(["apply", "-f", "web.dstack.yml", "--dry-run", "--host", "0.0.0.0"]);
    expect(any.code).toBe(0);
    expect(any.stdout).toMatch(/ Ports +0\.0\.0\.0:8080 -> 8080, 0\.0\.0\.0:9000 -> 9001\n/);
    expect((await dstack(["apply", "-f", "web.dstack.yml", "--dry-run", "--host", "localhost"])).stdout).toMatch(
      / Ports +localhost:8080 -> 8080, /,
    );
    expect((await dstack(["apply", "-f", "web.dstack.yml", "--dry-run", "--host=[::1]"])).stdout).toMatch(/ Ports +\[::1\]:8080 -> 8080, /);
    const both = await sim.remote(["apply", "-f", join(work, "web.dstack.yml"), "--dry-run", "--json", "--host", "0.0.0.0"]);
    expect(both.code).toBe(0);
    expect(JSON.parse(both.stdout)).toMatchObject({ host: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), bind_address: "0.0.0.0" });
  });

  test("neither form, or either form twice: exit 2, saying which", async () => {
    const bogus = await dstack(["apply", "-f", "web.dstack.yml", "--dry-run", "--host", "example.com"]);
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toContain('--host "example.com": neither a VMM endpoint (unix:PATH, http(s)://HOST:PORT, ssh://USER@HOST) nor');
    const two = await dstack(["apply", "-f", "web.dstack.yml", "--dry-run", "--host", "0.0.0.0", "--host", "::"]);
    expect(two.code).toBe(2);
    expect(two.stderr).toContain("--host: two addresses to bind the run's ports to (0.0.0.0, ::): give one");
    const ends = await dstack(["apply", "-f", "web.dstack.yml", "--dry-run", "--host", "unix:/a.sock", "--host", "http://127.0.0.1:1"]);
    expect(ends.code).toBe(2);
    expect(ends.stderr).toContain("--host: two VMM endpoints");
  });
});

describe("a submitted run's ports", () => {
  test("-p and --host reach the VM's port mappings", async () => {
    const r = await dstack(["apply", "-f", "web.dstack.yml", "-y", "-d", "-p", `${P}:8080`, "-p", `${P + 1}:9001`, "--host", "0.0.0.0"]);
    expect(r.code).toBe(0);
    expect((await vmNamed("web"))!.configuration.ports).toEqual([
      { protocol: "tcp", host_address: "0.0.0.0", host_port: P, vm_port: 8080 },
      { protocol: "tcp", host_address: "0.0.0.0", host_port: P + 1, vm_port: 9001 },
    ] satisfies Port[]);
  }, 60_000);

  test("other ports or another bind address cannot be updated in place: the run is re-created (dstackai's wording)", async () => {
    const before = (await vmNamed("web"))!.id;
    const rebind = await dstack(["apply", "-f", "web.dstack.yml", "-y", "-d", "-p", `${P}:8080`, "-p", `${P + 1}:9001`]);
    expect(rebind.code).toBe(0);
    expect(rebind.stderr).toContain(
      "Active run web already exists. Detected changes that cannot be updated in-place:\n- Bind address (--host)\n",
    );
    const mid = (await vmNamed("web"))!;
    expect(mid.id).not.toBe(before);
    expect(mid.configuration.ports.map((p) => p.host_address)).toEqual(["127.0.0.1", "127.0.0.1"]);
    const reports = await dstack(["apply", "-f", "web.dstack.yml", "-y", "-d", "-p", `${P + 2}:8080`, "-p", `${P + 1}:9001`]);
    expect(reports.code).toBe(0);
    expect(reports.stderr).toContain(
      "Active run web already exists. Detected changes that cannot be updated in-place:\n- Configuration properties:\n  - ports\n",
    );
    expect((await vmNamed("web"))!.configuration.ports.map((p) => p.host_port)).toEqual([P + 2, P + 1]);
    const same = await dstack(["apply", "-f", "web.dstack.yml", "-y", "-d", "-p", `${P + 2}:8080`, "-p", `${P + 1}:9001`]);
    expect(same.stderr).toContain("Active run web already exists. Detected no changes.\nUse --force to apply anyway.\n");
  }, 120_000);
});
