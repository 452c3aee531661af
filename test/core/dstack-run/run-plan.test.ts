import { describe, expect, test } from "bun:test";
import { parse } from "yaml";
import { composeHashOf } from "../../../src/core/compose/app-compose.ts";
import { FILES_LIMIT_BYTES, type ResolvedFiles } from "../../../src/core/dstack-run/files/files-archive.ts";
import { changedProperties, readRunDescription } from "../../../src/core/dstack-run/run-description.ts";
import { planRun, type RunPlanInput } from "../../../src/core/dstack-run/run-plan.ts";
import { parseConfiguration } from "../../../src/core/dstack-yml/configuration.ts";
import { UsageError } from "../../../src/core/errors.ts";

function plan(yml: string, over: Partial<RunPlanInput> = {}) {
  const { config } = parseConfiguration(yml, "x.dstack.yml");
  return planRun({ config, configPath: "x.dstack.yml", name: "hello", env: new Map(), secrets: {}, runArgs: [], files: [], ...over });
}

const file = (rel: string, text: string, mode = 0o644) => ({ rel, mode, kind: "file" as const, data: new TextEncoder().encode(text) });

const HELLO = `type: task
image: alpine:3.20
commands:
  - echo hi
ports: [8080]
`;

describe("the generated docker-compose", () => {
  test("a task's bytes are pinned (image, script, command line, ports, env names)", () => {
    const p = plan(HELLO, { env: new Map([["TOKEN", "s3cret"]]) });
    expect(p.dockerCompose).toBe(
      [
        `x-dstack-run: "{\\"type\\":\\"task\\",\\"name\\":\\"hello\\",\\"configuration_path\\":\\"x.dstack.yml\\",\\"configuration\\":{\\"image\\":\\"alpine:3.20\\",\\"python\\":null,\\"entrypoint\\":null,\\"working_dir\\":null,\\"user\\":null,\\"privileged\\":false,\\"shell\\":null,\\"env\\":[\\"TOKEN\\"],\\"resources\\":\\"cpu=2.. mem=8GB.. disk=100GB.. gpu=0..\\",\\"volumes\\":[],\\"repos\\":[],\\"files\\":[],\\"file_archives\\":null,\\"max_duration\\":null,\\"stop_duration\\":null,\\"retry\\":null,\\"priority\\":null,\\"registry_auth\\":null,\\"commands\\":[\\"echo hi\\"],\\"ports\\":[\\"8080\\"]}}"`,
        "services:",
        "  app:",
        '    image: "alpine:3.20"',
        "    entrypoint:",
        '      - "/bin/sh"',
        '      - "-c"',
        `      - "max=\\"$$1\\"; shift\\npid=\\"\\"; stops=0\\ntrap 'stops=$$((stops+1)); [ -n \\"$$pid\\" ] && kill -TERM \\"$$pid\\" 2>/dev/null' TERM INT\\n\\"$$@\\" &\\npid=$$!\\nif [ \\"$$stops\\" -gt 0 ]; then kill -TERM \\"$$pid\\" 2>/dev/null; fi\\nw=\\"\\"\\nif [ -n \\"$$max\\" ]; then (sleep \\"$$max\\" </dev/null >/dev/null 2>&1; echo \\"[dstack] max_duration exceeded\\"; kill -TERM \\"$$pid\\" 2>/dev/null) & w=$$!; fi\\nwhile :; do n=$$stops; wait \\"$$pid\\"; rc=$$?; [ \\"$$n\\" = \\"$$stops\\" ] && break; done\\nif [ -n \\"$$w\\" ]; then kill \\"$$w\\" 2>/dev/null; fi\\nif [ \\"$$stops\\" -gt 0 ]; then echo \\"[dstack] stopped\\"; fi\\necho \\"[dstack] exited ($$rc)\\"\\nexit \\"$$rc\\"\\n"`,
        '      - "dstack-run"',
        '      - ""',
        '      - "/bin/sh"',
        '      - "-i"',
        '      - "-c"',
        '      - "echo hi"',
        '    stop_grace_period: "300s"',
        "    ports:",
        '      - "8080:8080"',
        "    environment:",
        '      DSTACK_RUN_NAME: "hello"',
        '      DSTACK_NODES_NUM: "1"',
        '      DSTACK_NODE_RANK: "0"',
        '      DSTACK_GPUS_NUM: "0"',
        '      DSTACK_GPUS_PER_NODE: "0"',
        '      TOKEN: "${TOKEN}"',
        "",
      ].join("\n"),
    );
    expect(p.built.composeHash).toBe(composeHashOf(p.built.composeFile));
  });

  test("it is YAML compose reads: the script survives compose's $ interpolation", () => {
    const doc = parse(plan(HELLO).dockerCompose) as { services: { app: { entrypoint: string[] } } };
    const script = doc.services.app.entrypoint[2]!.replaceAll("$$", "$");
    expect(script).toStartWith('max="$1"; shift\npid=""; stops=0\n');
  });

  test("the same input gives the same bytes; the description reads back", () => {
    const a = plan(HELLO);
    expect(plan(HELLO).dockerCompose).toBe(a.dockerCompose);
    const d = readRunDescription(a.dockerCompose)!;
    expect(d.type).toBe("task");
    expect(d.configuration.commands).toEqual(["echo hi"]);
    expect(readRunDescription("services:\n  web:\n    image: nginx\n")).toBeUndefined();
  });

  test("$ in commands is literal to compose and reads back as written", () => {
    const p = plan("type: task\nimage: alpine\ncommands: ['echo $HOME ${X}']\n");
    expect(p.dockerCompose).toContain('      - "echo $$HOME $${X}"');
    expect(readRunDescription(p.dockerCompose)!.configuration.commands).toEqual(["echo $HOME ${X}"]);
  });

  test("without an image: the default image for the Python version, bash, /dstack/run", () => {
    const p = plan("type: task\npython: 3.11\ncommands: [python -V]\n");
    expect(p.image).toBe("python:3.11-slim");
    expect(p.dockerCompose).toContain('      - "/bin/bash"\n      - "-i"\n      - "-c"\n      - "python -V"\n');
    expect(p.dockerCompose).toContain('    working_dir: "/dstack/run"\n');
    expect(p.dockerCompose).toContain('      DSTACK_WORKING_DIR: "/dstack/run"\n');
  });

  test("an image without commands runs its own ENTRYPOINT/CMD", () => {
    const p = plan("type: service\nimage: nginx\nport: 80\nauth: false\n");
    expect(p.dockerCompose).not.toContain("entrypoint:");
    expect(p.ports).toEqual([{ localPort: null, vmPort: 80 }]);
    expect(p.dockerCompose).toContain('      - "80:80"\n');
  });

  test("entrypoint + commands, user, privileged, stop_duration, shm_size, retry, max_duration, instance volumes, GPUs", () => {
    const p = plan(`type: task
image: pytorch/pytorch
entrypoint: python -m torch.distributed.run
commands: [train.py, --epochs=1]
user: 1000:1000
privileged: true
stop_duration: 30s
max_duration: 1h
retry:
  on_events: [error]
volumes:
  - /cache:/root/.cache
  - instance_path: /data
    path: /data
    optional: true
resources:
  gpu: 2
  shm_size: 1GB
`);
    const c = p.dockerCompose;
    expect(c).toContain(
      '      - "dstack-run"\n      - "3600"\n      - "python"\n      - "-m"\n      - "torch.distributed.run"\n      - "train.py"\n      - "--epochs=1"\n',
    );
    expect(c).toContain('    user: "1000:1000"\n    privileged: true\n    stop_grace_period: "30s"\n    shm_size: "1073741824"\n');
    expect(c).toContain('    restart: "on-failure"\n');
    expect(c).toMatch(/ {6}- "iv-cache-[0-9a-f]{8}:\/root\/\.cache"\n {6}- "iv-data-[0-9a-f]{8}:\/data"\n/);
    expect(c).toContain('            - driver: "nvidia"\n              count: 2\n');
    expect(c).toMatch(/\nvolumes:\n {2}iv-cache-[0-9a-f]{8}: \{\}\n {2}iv-data-[0-9a-f]{8}: \{\}\n$/);
    expect(p.chosen).toEqual({ vcpu: 2, memoryMiB: 8192, diskGiB: 100, gpus: 2 });
  });
});

describe("secrets: sealed, never in the manifest", () => {
  test("env values and registry_auth reach only the sealed env; names are allowed_envs", () => {
    const p = plan(
      "type: task\nimage: ghcr.io/org/app:1\ncommands: [run]\nenv: [HF_TOKEN]\nregistry_auth:\n  username: ${{ env.HF_TOKEN }}\n  password: ${{ secrets.GHCR }}\n",
      { env: new Map([["HF_TOKEN", "hf_value_1"]]), secrets: { GHCR: "ghcr_value_2" } },
    );
    expect(p.env).toEqual([
      { key: "HF_TOKEN", value: "hf_value_1" },
      { key: "DSTACK_DOCKER_REGISTRY", value: "ghcr.io" },
      { key: "DSTACK_DOCKER_USERNAME", value: "hf_value_1" },
      { key: "DSTACK_DOCKER_PASSWORD", value: "ghcr_value_2" },
    ]);
    expect(p.built.manifest.allowed_envs).toEqual([
      "HF_TOKEN",
      "DSTACK_DOCKER_REGISTRY",
      "DSTACK_DOCKER_USERNAME",
      "DSTACK_DOCKER_PASSWORD",
    ]);
    for (const secret of ["hf_value_1", "ghcr_value_2"]) {
      expect(p.built.composeFile).not.toContain(secret);
      expect(p.dockerCompose).not.toContain(secret);
    }
  });
  test("${{ secrets.X }} in env values; a missing secret is dstackai's error", () => {
    const p = plan("type: task\nimage: alpine\ncommands: [x]\n", { env: new Map([["KEY", "${{ secrets.API }}"]]), secrets: { API: "v" } });
    expect(p.env).toEqual([{ key: "KEY", value: "v" }]);
    expect(() => plan("type: task\nimage: alpine\ncommands: [x]\n", { env: new Map([["KEY", "${{ secrets.API }}"]]) })).toThrow(
      "env.KEY: Failed to interpolate due to missing vars: ['secrets.API']",
    );
  });
  test("${{ env.X }} in probes: checked before the plan, kept as written in the manifest (the client fills it when it probes)", () => {
    const svc =
      "type: service\nimage: alpine\nauth: false\ncommands: [x]\nport: 80\nenv: [TOKEN]\nprobes:\n  - type: http\n    headers: [{name: Authorization, value: 'Bearer ${{ env.TOKEN }}'}]\n";
    const p = plan(svc, { env: new Map([["TOKEN", "t0k-value"]]) });
    const probes = readRunDescription(p.dockerCompose)!.configuration.probes as { headers: { value: string }[] }[];
    expect(probes[0]!.headers[0]!.value).toBe("Bearer ${{ env.TOKEN }}");
    expect(p.dockerCompose).not.toContain("t0k-value");
    expect(() => plan(svc.replace("env: [TOKEN]\n", ""), { env: new Map() })).toThrow(
      "probes[0].headers[0].value: Failed to interpolate due to missing vars: ['env.TOKEN']",
    );
  });
  test("${{ run.args }} in commands", () => {
    const p = plan("type: task\nimage: alpine\ncommands: ['python train.py ${{ run.args }}']\n", { runArgs: ["--lr", "0.1 x"] });
    expect(p.dockerCompose).toContain(`      - "python train.py --lr '0.1 x'"\n`);
  });
});

describe("files are measured", () => {
  const files = (text: string): ResolvedFiles[] => [
    { item: "src:/app", path: "/app", entries: [{ rel: "", mode: 0o755, kind: "dir" }, file("main.py", text)] },
  ];
  test("a file's content changes the compose hash; the archive is in the compose", () => {
    const a = plan("type: task\nimage: alpine\ncommands: [x]\nfiles: ['src:/app']\n", { files: files("print(1)\n") });
    const b = plan("type: task\nimage: alpine\ncommands: [x]\nfiles: ['src:/app']\n", { files: files("print(2)\n") });
    expect(a.built.composeHash).not.toBe(b.built.composeHash);
    expect(a.files.count).toBe(1);
    expect(a.dockerCompose).toMatch(/\nx-dstack-files: "H4sI[A-Za-z0-9+/=]+"\n/);
    expect(a.dockerCompose).toContain('      - "/dstack/docker-compose.yaml:/dstack/.run/compose.yaml:ro"\n');
    expect(readRunDescription(a.dockerCompose)!.configuration.file_archives).not.toBe(
      readRunDescription(b.dockerCompose)!.configuration.file_archives,
    );
  });
  test("over dstackai's 2 MiB limit is an error", () => {
    const big = new Uint8Array(FILES_LIMIT_BYTES + 1024);
    for (let i = 0; i < big.length; i += 65536) crypto.getRandomValues(big.subarray(i, i + 65536));
    const f: ResolvedFiles[] = [{ item: "big", path: "/big", entries: [{ rel: "", mode: 0o644, kind: "file", data: big }] }];
    expect(() => plan("type: task\nimage: alpine\ncommands: [x]\nfiles: [big]\n", { files: f })).toThrow("over the 2 MiB limit");
  });
  test("files need a command line to be unpacked by", () => {
    expect(() => plan("type: task\nimage: alpine\nfiles: ['a:/a']\n", { files: files("x") })).toThrow(UsageError);
  });
});

describe("refusals", () => {
  test("a git repo needs a pinned commit", () => {
    expect(() => plan("type: task\nimage: alpine\ncommands: [x]\nrepos: [https://github.com/org/repo]\n")).toThrow(
      "pin a commit with hash:",
    );
    const p = plan("type: task\nimage: alpine/git\ncommands: [ls]\nrepos:\n  - url: https://github.com/org/repo\n    hash: 0123abc\n");
    expect(p.dockerCompose).toContain("git clone --quiet 'https://github.com/org/repo'");
    expect(p.dockerCompose).toContain("checkout --quiet --detach '0123abc'");
  });
});

test("changed properties", () => {
  const a = readRunDescription(plan(HELLO).dockerCompose)!;
  const b = readRunDescription(plan(HELLO.replace("echo hi", "echo bye").replace("[8080]", "[8081]")).dockerCompose)!;
  expect(changedProperties(a, b)).toEqual(["commands", "ports"]);
  expect(changedProperties(a, a)).toEqual([]);
});
