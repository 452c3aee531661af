/**
 * The README's quick start as a new user meets it, on a simulated host whose engine has no
 * registry in reach (the test's own image is imported, not pulled): `run` of an image that
 * cannot be pulled exits 1 and says which image and why; `rm` returns once the VM is gone, so
 * its port is free for the next `run` at once; a local image then answers on the mapped port.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ensureHttpdImage, HTTPD_IMAGE, INDEX_HTML, testEngine } from "../../helpers/engine.ts";
import { type SimInstall, simInstall } from "../../helpers/sim-install.ts";

const engine = await testEngine();
/** a registry name no resolver knows (.invalid, RFC 2606): the pull fails wherever the test runs */
const UNPULLABLE = "registry.dstack-test.invalid/nginx:1";
const port = 15000 + Math.floor(Math.random() * 4000);

let inst: SimInstall | undefined;

describe.skipIf(!engine)("the quick start on a host whose engine cannot pull", () => {
  beforeAll(async () => {
    await ensureHttpdImage(engine!);
    inst = await simInstall("dstack-quick-start", { runtime: "docker" });
  }, 120_000);

  afterAll(async () => {
    await inst?.destroy();
  });

  test("run IMAGE that cannot be pulled: exit 1, the image and the engine's error, where to look", async () => {
    const r = await inst!.dstack(["run", UNPULLABLE, "-n", "web", "-p", `${port}:80`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("status:       boot failed");
    expect(r.stderr).toMatch(
      new RegExp(
        `dstack: web did not boot: Boot failed: failed to start containers: image ${UNPULLABLE.replace(/[./]/g, "\\$&")} is not on this host and could not be pulled: \\S.*\\n  next: dstack logs web\\n`,
      ),
    );
    expect(r.stderr).toContain("dstack-test.invalid");
  }, 120_000);

  test("rm returns once the VM is gone: its port is free for the next run at once; a local image answers", async () => {
    const rm = await inst!.dstack(["rm", "web"]);
    expect(rm.code).toBe(0);
    expect(rm.stdout).toMatch(/^web \([0-9a-f]{8}\): removed/);
    const r = await inst!.dstack(["run", HTTPD_IMAGE, "-n", "web", "-p", `${port}:80`]);
    expect(r.stderr).not.toContain("already mapped"); // no clash with the removed VM
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`port:         http://127.0.0.1:${port}/  (→ 80 in the CVM)`);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe(INDEX_HTML);
  }, 120_000);
});
