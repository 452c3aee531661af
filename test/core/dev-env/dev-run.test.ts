import { describe, expect, test } from "bun:test";
import { parse } from "yaml";
import { authorizedKeysText } from "../../../src/core/dev-env/dev-run.ts";
import { changedProperties, readRunDescription } from "../../../src/core/dstack-run/run-description.ts";
import { planRun, type RunPlanInput } from "../../../src/core/dstack-run/run-plan.ts";
import { parseConfiguration } from "../../../src/core/dstack-yml/configuration.ts";
import { UsageError } from "../../../src/core/errors.ts";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKx1vHjS3RdYxD8zJ4r2W5c7vP0o9vQmZlq0bS7sQ3pA me@laptop";

function plan(yml: string, over: Partial<RunPlanInput> = {}) {
  const { config } = parseConfiguration(yml, "dev.dstack.yml");
  return planRun({
    config,
    configPath: "dev.dstack.yml",
    name: "dev",
    env: new Map(),
    secrets: {},
    runArgs: [],
    files: [],
    sshAuthorizedKeys: KEY,
    ...over,
  });
}

type Svc = {
  image: string;
  entrypoint: string[];
  ports: string[];
  volumes: string[];
  environment: Record<string, string>;
  working_dir?: string;
};
const service = (compose: string) => (parse(compose) as { services: { app: Svc } }).services.app;
/** the dev script: the start script's command line is /bin/sh -c SCRIPT (compose's $$ undone) */
const devScriptOf = (compose: string) => {
  const ep = service(compose).entrypoint.map((a) => a.replaceAll("$$", "$"));
  expect(ep.slice(3, 5)).toEqual(["dstack-run", ""]);
  expect(ep.slice(5, 7)).toEqual(["/bin/sh", "-c"]);
  expect(ep).toHaveLength(8);
  return ep[7]!;
};

describe("a dev environment's plan", () => {
  test("the default image, sshd's port first (to a free host port), the guest agent's socket, the keys sealed", () => {
    const p = plan("type: dev-environment\nide: vscode\nports: ['8888', '*:6006']\n");
    expect(p.type).toBe("dev-environment");
    expect(p.image).toBe("python:3.12-slim");
    expect(p.ports).toEqual([
      { localPort: null, vmPort: 10022 },
      { localPort: 8888, vmPort: 8888 },
      { localPort: null, vmPort: 6006 },
    ]);
    const svc = service(p.dockerCompose);
    expect(svc.image).toBe("python:3.12-slim");
    expect(svc.ports).toEqual(["10022:10022", "8888:8888", "6006:6006"]);
    expect(svc.volumes).toEqual(["/var/run/dstack.sock:/var/run/dstack.sock"]);
    expect(svc.working_dir).toBe("/dstack/run");
    expect(svc.environment.DSTACK_SSH_AUTHORIZED_KEYS).toBe("${DSTACK_SSH_AUTHORIZED_KEYS}");
    expect(p.env).toEqual([{ key: "DSTACK_SSH_AUTHORIZED_KEYS", value: KEY }]);
    expect(p.built.manifest.allowed_envs).toEqual(["DSTACK_SSH_AUTHORIZED_KEYS"]);
    expect(p.dockerCompose).not.toContain("AAAAC3NzaC1lZDI1NTE5");
  });

  test("the command line is the dev script, with init interpolated and run in the default image's bash", () => {
    const p = plan("type: dev-environment\ninit: ['pip install ${{ run.args }}', 'echo $HOME']\ninactivity_duration: 5m\n", {
      runArgs: ["numpy", "a b"],
    });
    const script = devScriptOf(p.dockerCompose);
    expect(script).toContain("dstack_run /bin/bash -c 'pip install numpy '\"'\"'a b'\"'\"' && echo $HOME'; rc=$?\n");
    expect(script).toContain("-ge 300 ]; then");
    expect(script).toContain("Port 10022\n");
  });

  test("with an image: its WORKDIR, /bin/sh for init, the image's ports; the user's image is kept", () => {
    const p = plan("type: dev-environment\nimage: local/devenv:test\ninit: [touch /tmp/x]\nports: [3000]\n");
    const svc = service(p.dockerCompose);
    expect(svc.image).toBe("local/devenv:test");
    expect(svc.working_dir).toBeUndefined();
    expect(devScriptOf(p.dockerCompose)).toContain("dstack_run /bin/sh -c 'touch /tmp/x'; rc=$?\n");
  });

  test("the description records ide, version, init and inactivity_duration; inactivity_duration is a change in place", () => {
    const a = readRunDescription(
      plan("type: dev-environment\nide: vscode\nversion: 1.90.0\ninit: [x]\ninactivity_duration: 1h\n").dockerCompose,
    )!;
    expect(a.type).toBe("dev-environment");
    expect(a.configuration).toMatchObject({ ide: "vscode", version: "1.90.0", init: ["x"], inactivity_duration: 3600, ports: [] });
    expect(a.configuration.commands).toBeUndefined();
    const b = readRunDescription(
      plan("type: dev-environment\nide: vscode\nversion: 1.90.0\ninit: [x]\ninactivity_duration: 2h\n").dockerCompose,
    )!;
    expect(changedProperties(a, b)).toEqual(["inactivity_duration"]);
  });

  test("the keys are not part of the compose: other keys give the same compose hash", () => {
    const other = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBCSs= other";
    expect(plan("type: dev-environment\n", { sshAuthorizedKeys: other }).built.composeHash).toBe(
      plan("type: dev-environment\n").built.composeHash,
    );
  });

  test("refusals: no keys, port 10022, the keys' env name", () => {
    expect(() => plan("type: dev-environment\n", { sshAuthorizedKeys: undefined })).toThrow(UsageError);
    expect(() => plan("type: dev-environment\n", { sshAuthorizedKeys: "\n# none\n" })).toThrow("none were given");
    expect(() => plan("type: dev-environment\nports: ['2222:10022']\n")).toThrow("10022 is the dev environment's sshd");
    expect(() => plan("type: dev-environment\n", { env: new Map([["DSTACK_SSH_AUTHORIZED_KEYS", "x"]]) })).toThrow(
      "is the dev environment's own",
    );
  });

  test("inactivity_duration: off, false and true mean none; 0 and negatives are refused where they are written", () => {
    for (const v of ["off", "false", "true"]) {
      const { config } = parseConfiguration(`type: dev-environment\ninactivity_duration: ${v}\n`, "d.yml");
      expect(config.type === "dev-environment" && config.inactivityDuration).toBeUndefined();
    }
    expect(() => parseConfiguration("type: dev-environment\ninactivity_duration: 0\n", "d.yml")).toThrow("must be positive");
    expect(() => parseConfiguration("type: dev-environment\ninactivity_duration: -5s\n", "d.yml")).toThrow("must be positive");
  });
});

describe("the authorized keys text", () => {
  test("one key a line; blank and comment lines dropped; options allowed", () => {
    expect(authorizedKeysText(`\n# mine\n${KEY}\n  restrict,port-forwarding ssh-rsa AAAAB3NzaC1yc2E=  \n`)).toBe(
      `${KEY}\nrestrict,port-forwarding ssh-rsa AAAAB3NzaC1yc2E=`,
    );
  });
  test("a private key or anything else is refused, naming the line", () => {
    expect(() => authorizedKeysText("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n")).toThrow("line 1");
    expect(() => authorizedKeysText(`${KEY}\nhello\n`)).toThrow("line 2 is not an OpenSSH public key");
  });
});
