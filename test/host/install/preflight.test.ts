import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NotFoundError } from "../../../src/core/errors.ts";
import { NO_RUNTIME } from "../../../src/core/specs/sim-runtime.ts";
import { checkRuntime } from "../../../src/host/install/preflight/runtime.ts";
import { CHECK_NAMES, type PreflightFacts, parseIgnoreList, runPreflight } from "../../../src/host/install/preflight.ts";

function facts(over: Partial<PreflightFacts> = {}): PreflightFacts {
  const dir = mkdtempSync(join(tmpdir(), "preflight-"));
  writeFileSync(join(dir, "kvm"), "");
  writeFileSync(join(dir, "auth-allowlist.json"), "not json");
  return {
    simulate: false,
    serviceManager: { kind: "systemd", systemdRunning: false },
    platform: { requested: "tdx", detected: "tdx" },
    devRoot: dir,
    qemu: "/bin/true",
    installDirs: [join(dir, "etc")],
    binaries: { simulate: false, vmm: "/bin/true", supervisor: join(dir, "no-supervisor"), vmmFlag: undefined, supervisorFlag: undefined },
    keyProvider: { src: dir, compose: join(dir, "docker-compose.yaml"), project: "dstack-kp-3443" },
    ports: [{ what: "dashboard", flag: "--dashboard-port", address: "127.0.0.1", port: 9080, owned: true }],
    cids: { start: 1000, moved: false, poolSize: 1000 },
    hostApi: { port: 10000, taken: [] },
    state: { path: join(dir, "dstackup-state.json"), exists: true, problem: undefined },
    allowlistPath: join(dir, "auth-allowlist.json"),
    image: { kmsMode: true, simulate: false, requested: undefined, imageDir: dir, error: new NotFoundError(`no guest image in ${dir}`) },
    runtime: undefined,
    ...over,
  };
}

describe("preflight", () => {
  test("every check is named, in the order it runs", () => {
    expect(CHECK_NAMES).toEqual([
      "service-manager",
      "root",
      "platform",
      "kvm",
      "qemu",
      "runtime",
      "prefix",
      "binaries",
      "key-provider",
      "ports",
      "cids",
      "host-api",
      "state",
      "allowlist",
      "image",
    ]);
  });

  test("a real host runs all fourteen, in that order, and says which failed", async () => {
    const r = await runPreflight(facts(), new Set());
    expect(r.map((c) => c.name)).toEqual(CHECK_NAMES.filter((n) => n !== "runtime")); // the apps' engine is --simulate's
    const failed = r.filter((c) => !c.ok).map((c) => c.name);
    expect(failed).toContain("service-manager");
    expect(failed).toContain("binaries");
    expect(failed).toContain("key-provider");
    expect(failed).toContain("allowlist");
    expect(failed).toContain("image");
    expect(r.find((c) => c.name === "binaries")!.detail).toMatch(/supervisor not found or not executable/);
  });

  test("--simulate without the KMS skips what does not apply; ignores demote failures", async () => {
    const r = await runPreflight(
      facts({
        simulate: true,
        serviceManager: { kind: "detached", systemdRunning: false },
        platform: undefined,
        binaries: { simulate: true, vmm: "/bin/true", supervisor: "/bin/true", vmmFlag: undefined, supervisorFlag: undefined },
        keyProvider: undefined,
        hostApi: undefined,
        state: { path: "/nonexistent/dstackup-state.json", exists: false, problem: undefined },
        allowlistPath: "/nonexistent/auth-allowlist.json",
        runtime: { choice: "none", detected: { runtime: NO_RUNTIME, notes: [] } },
      }),
      parseIgnoreList("image"),
    );
    expect(r.map((c) => c.name)).toEqual(["service-manager", "root", "runtime", "prefix", "ports", "cids", "image"]);
    const rt = r.find((c) => c.name === "runtime")!;
    expect(rt).toMatchObject({ ok: true, warning: false });
    expect(rt.detail).toContain("apps do not run");
    expect(r.find((c) => c.name === "image")!.ignored).toBe(true);
  });

  test("an unknown check name is a usage error listing them all", () => {
    expect(() => parseIgnoreList("kvm,nope")).toThrow(`unknown check "nope" (checks: ${CHECK_NAMES.join(", ")}, or all)`);
  });
});

describe("the runtime check (--simulate)", () => {
  test("an engine asked for by name that does not answer refuses the install; auto falls back to none with a warning", () => {
    const refused = checkRuntime({
      choice: "docker",
      detected: { runtime: NO_RUNTIME, notes: ["x"], error: "docker: the engine does not answer" },
    });
    expect(refused).toMatchObject({ name: "runtime", ok: false });
    expect(refused.fix).toContain("--runtime auto or --runtime none");
    const auto = checkRuntime({ choice: "auto", detected: { runtime: NO_RUNTIME, notes: ["docker: not installed"] } });
    expect(auto).toMatchObject({ ok: true, warning: true });
    expect(auto.detail).toContain("docker: not installed");
    const docker = {
      engine: "docker",
      client: "/usr/bin/docker",
      compose: ["/usr/bin/docker", "compose"],
      host: "",
      version: "27.1",
      composeVersion: "2.29",
    } as const;
    expect(checkRuntime({ choice: "auto", detected: { runtime: { ...docker, compose: [...docker.compose] }, notes: [] } }).detail).toBe(
      "docker 27.1 (compose: docker compose 2.29) — apps run in containers",
    );
  });
});
