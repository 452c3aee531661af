import { describe, expect, test } from "bun:test";
import { appIdOf, composeHashOf } from "../../../src/core/compose/app-compose.ts";
import { formatPlan, parseDuration, planDeploy, planSummary } from "../../../src/core/compose/deploy-plan.ts";
import { UsageError } from "../../../src/core/errors.ts";

const img = (image: string, command?: string[]) => ({ kind: "image" as const, image, ...(command ? { command } : {}) });
const usage = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error("expected a usage error");
};

describe("planDeploy", () => {
  test("defaults: 2 vCPU, 2048 MiB, 20 GiB, 120 s, name from the image, the install's guest image, KMS on", () => {
    const p = planDeploy(img("ghcr.io/org/web:1.2"), {}, {}, "dstack-0.5.5");
    expect(p).toMatchObject({
      name: "web",
      guestImage: "dstack-0.5.5",
      vcpu: 2,
      memoryMiB: 2048,
      diskGiB: 20,
      timeoutMs: 120_000,
      kms: true,
      gpu: undefined,
    });
    expect(p.built.composeHash).toBe(composeHashOf(p.built.composeFile));
    expect(p.built.appId).toBe(appIdOf(p.built.composeHash));
    expect(p.built.manifest.docker_compose_file).toContain('image: "ghcr.io/org/web:1.2"');
  });

  test("flags: name, sizes, ports, gpu, command, guest image", () => {
    const p = planDeploy(
      img("nginx", ["nginx", "-g", "daemon off;"]),
      {
        name: "edge",
        vcpu: "4",
        memory: "4GiB",
        disk: "40GB",
        port: ["8080:80", "udp:53:5353"],
        gpu: "H100:2",
        guestImage: "dstack-dev-0.5.5",
        timeout: "2m",
      },
      {},
      "dstack-0.5.5",
    );
    expect(p).toMatchObject({
      name: "edge",
      vcpu: 4,
      memoryMiB: 4096,
      diskGiB: 40,
      guestImage: "dstack-dev-0.5.5",
      timeoutMs: 120_000,
      gpuText: "H100:2",
    });
    expect(p.ports.map((x) => [x.protocol, x.hostPort, x.vmPort])).toEqual([
      ["tcp", 8080, 80],
      ["udp", 53, 5353],
    ]);
    expect(p.built.manifest.name).toBe("edge");
    expect(p.dockerCompose).toContain("daemon off;");
    expect(p.dockerCompose).toContain('"80:80"');
  });

  test("env: names into allowed_envs, values only in the plan (never in the manifest)", () => {
    const secret = "s3cret-value";
    const p = planDeploy(
      img("app"),
      { env: [`API_KEY=${secret}`, "FROM_ENV"], envFile: { path: "prod.env", text: `DB="x${secret}"\nMODE=prod\n` } },
      { FROM_ENV: secret },
      "g",
    );
    expect(p.env.map((e) => e.key).sort()).toEqual(["API_KEY", "DB", "FROM_ENV", "MODE"]);
    expect([...p.built.manifest.allowed_envs!].sort()).toEqual(["API_KEY", "DB", "FROM_ENV", "MODE"]);
    expect(p.built.composeFile).not.toContain(secret);
    expect(JSON.stringify(planSummary(p))).not.toContain(secret);
    expect(formatPlan(p, "/a.json")).not.toContain(secret);
    // -e overrides the env file
    const q = planDeploy(img("app"), { env: ["MODE=dev"], envFile: { path: "f", text: "MODE=prod\n" } }, {}, "g");
    expect(q.env).toEqual([{ key: "MODE", value: "dev" }]);
  });

  test("the same flags give the same hash; a changed flag that reaches the manifest changes it", () => {
    const a = planDeploy(img("nginx"), { port: ["8080:80"] }, {}, "g").built.composeHash;
    expect(planDeploy(img("nginx"), { port: ["8080:80"] }, {}, "g").built.composeHash).toBe(a);
    expect(planDeploy(img("nginx"), { port: ["8080:80"], vcpu: "8" }, {}, "g").built.composeHash).toBe(a); // resources are not in the manifest
    expect(planDeploy(img("nginx"), { port: ["8080:81"] }, {}, "g").built.composeHash).not.toBe(a);
    expect(planDeploy(img("nginx"), { port: ["8080:80"], kms: false }, {}, "g").built.composeHash).not.toBe(a);
  });

  test("a compose source keeps its text; the name defaults to app", () => {
    const text = "services:\n  web:\n    image: nginx\n";
    const p = planDeploy({ kind: "compose", text, label: "c.yaml" }, {}, {}, "g");
    expect(p.name).toBe("app");
    expect(p.built.manifest.docker_compose_file).toBe(text);
  });

  test("bad input: a usage error naming the flag", () => {
    expect(usage(() => planDeploy(img("nginx"), { vcpu: "0" }, {}, "g"))).toContain("--vcpu");
    expect(usage(() => planDeploy(img("nginx"), { memory: "lots" }, {}, "g"))).toContain("--memory");
    expect(usage(() => planDeploy(img("nginx"), { disk: "-1" }, {}, "g"))).toContain("--disk");
    expect(usage(() => planDeploy(img("nginx"), { gpu: "H100:x" }, {}, "g"))).toContain("--gpu");
    expect(usage(() => planDeploy(img("nginx"), { port: ["80:80:80:80:80"] }, {}, "g"))).toContain("--port");
    expect(usage(() => planDeploy(img("nginx"), { env: ["1BAD=x"] }, {}, "g"))).toContain("--env");
    expect(usage(() => planDeploy(img("nginx"), { env: ["UNSET_VAR"] }, {}, "g"))).toContain("UNSET_VAR");
    expect(usage(() => planDeploy(img("nginx"), { timeout: "soon" }, {}, "g"))).toContain("--timeout");
    expect(usage(() => planDeploy(img("nginx"), { name: "bad/name" }, {}, "g"))).toContain("--name");
    expect(usage(() => planDeploy(img("Not An Image"), {}, {}, "g"))).toMatch(/image/i);
    expect(usage(() => planDeploy(img("nginx"), { kms: false, env: ["A=b"] }, {}, "g"))).toContain("--no-kms");
    expect(usage(() => planDeploy(img("nginx"), {}, {}, undefined))).toContain("--guest-image");
  });
});

describe("parseDuration", () => {
  test.each([
    ["90", 90_000],
    ["90s", 90_000],
    ["2m", 120_000],
    ["500ms", 500],
    ["1.5s", 1500],
  ])("%s → %d ms", (v, ms) => expect(parseDuration(v)).toBe(ms));
  test("garbage names the flag", () => {
    expect(usage(() => parseDuration("1h", "--timeout"))).toContain("--timeout");
    expect(usage(() => parseDuration("", "--timeout"))).toContain("--timeout");
  });
});
