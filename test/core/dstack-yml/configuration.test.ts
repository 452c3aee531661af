import { describe, expect, test } from "bun:test";
import { parseConfiguration } from "../../../src/core/dstack-yml/configuration.ts";
import { formatResources } from "../../../src/core/dstack-yml/resources/resources.ts";
import { ConfigurationError } from "../../../src/core/dstack-yml/yaml/issues.ts";

function problems(text: string, file = "x.dstack.yml"): string[] {
  try {
    parseConfiguration(text, file);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigurationError);
    return (e as ConfigurationError).issues.map((i) => `${i.file}:${i.line}: ${i.path}: ${i.message}`);
  }
  throw new Error("expected a ConfigurationError");
}

describe("task", () => {
  test("a typical task", () => {
    const { config, warnings } = parseConfiguration(
      `type: task
name: train
python: 3.10
env:
  - HF_TOKEN
  - MODE=fast
commands:
  - pip install -r requirements.txt
  - python train.py
ports: [8080, "*:6006"]
resources:
  gpu: 24GB
  disk: 150GB
max_duration: 2h
retry: true
priority: 50
`,
      "train.dstack.yml",
    );
    expect(warnings).toEqual([]);
    expect(config.type).toBe("task");
    if (config.type !== "task") return;
    expect(config.name).toBe("train");
    expect(config.python).toBe("3.10");
    expect([...config.env]).toEqual([
      ["HF_TOKEN", undefined],
      ["MODE", "fast"],
    ]);
    expect(config.commands).toEqual(["pip install -r requirements.txt", "python train.py"]);
    expect(config.ports).toEqual([
      { localPort: 8080, containerPort: 8080 },
      { localPort: null, containerPort: 6006 },
    ]);
    expect(formatResources(config.resources)).toBe("cpu=2.. mem=8GB.. disk=150GB gpu=24GB:1..");
    expect(config.maxDuration).toBe(7200);
    expect(config.retry).toEqual({ onEvents: ["no-capacity", "interruption", "error"], duration: 3600 });
    expect(config.priority).toBe(50);
  });

  test("YAML 1.1: privileged: yes, max_duration: off", () => {
    const { config } = parseConfiguration("type: task\nimage: alpine\nprivileged: yes\nmax_duration: off\n", "t.yml");
    expect(config.privileged).toBe(true);
    expect(config.maxDuration).toBe("off");
  });

  test("either commands or image", () => {
    expect(problems("type: task\nname: t1\n")).toEqual(["x.dstack.yml:1: commands: Either commands or image must be set"]);
  });

  test("unknown keys: the path, the line and did you mean", () => {
    expect(problems("type: task\ncomands:\n  - echo\nimage: alpine\nresources:\n  gpus: 1\n")).toEqual([
      'x.dstack.yml:2: comands: unknown key (Extra inputs are not permitted); did you mean "commands"?',
      'x.dstack.yml:6: resources.gpus: unknown key (Extra inputs are not permitted); did you mean "gpu"?',
    ]);
  });

  test("every error at once, each with its line", () => {
    expect(
      problems(`type: task
name: Train_1
image: alpine
python: "3.8"
working_dir: work
resources:
  cpu: 8..2
  memory: 16GiB
shell: zsh
ports:
  - 2222:22
`),
    ).toEqual([
      'x.dstack.yml:2: name: Invalid run name "Train_1": names match ^[a-z][a-z0-9-]{1,40}$',
      "x.dstack.yml:4: python: Input should be '3.9', '3.10', '3.11', '3.12', '3.13', '3.14'",
      "x.dstack.yml:5: working_dir: working_dir must be absolute",
      "x.dstack.yml:7: resources.cpu: Invalid range order",
      "x.dstack.yml:8: resources.memory: could not convert string to float: '16gib'",
      'x.dstack.yml:9: shell: The shell "zsh" is not supported: use sh, bash or an absolute path',
      "x.dstack.yml:10: ports: Invalid port 133342: ports are 1..65535",
      "x.dstack.yml:4: python: image and python are mutually exclusive fields",
    ]);
  });

  test("a YAML boolean where a string belongs says to quote it", () => {
    expect(problems("type: task\nimage: alpine\nentrypoint: no\n")).toEqual([
      "x.dstack.yml:3: entrypoint: Input should be a valid string (YAML 1.1 reads an unquoted no/off/false as a boolean: quote it)",
    ]);
  });

  test("cloud-only keys: accepted, one warning naming them all", () => {
    const { warnings } = parseConfiguration(
      "type: task\nimage: alpine\nbackends: [aws]\nspot_policy: auto\nmax_price: 2\nidle_duration: 5m\nfleets: [f]\n",
      "t.yml",
    );
    expect(warnings.map((w) => `${w.line}: ${w.message}`)).toEqual([
      "3: backends, spot_policy, max_price, idle_duration, fleets: only place work in a cloud; accepted, without effect on a confidential host",
    ]);
  });

  test("keys that cannot be honoured say why", () => {
    const out = problems(
      "type: task\nimage: alpine\nnodes: 2\ndocker: true\nutilization_policy:\n  min_gpu_utilization: 10\n  time_window: 30m\n",
    );
    expect(out[0]).toStartWith("x.dstack.yml:3: nodes: cannot be honoured on a confidential host yet: a run is one CVM");
    expect(out[1]).toStartWith("x.dstack.yml:4: docker: cannot be honoured on a confidential host yet: the CVM's container engine");
    expect(out[2]).toStartWith("x.dstack.yml:5: utilization_policy: cannot be honoured");
  });

  test("network volumes are refused; instance volumes kept", () => {
    expect(problems("type: task\nimage: alpine\nvolumes:\n  - /cache:/root/.cache\n  - data:/data\n")).toEqual([
      "x.dstack.yml:5: volumes[1]: network volume data: a confidential host has no network volumes; use an instance volume (HOST_PATH:PATH), kept on the CVM's own encrypted disk",
    ]);
  });

  test("registry_auth needs both fields; one repo at most", () => {
    expect(problems("type: task\nimage: alpine\nregistry_auth:\n  username: u\n")).toEqual([
      "x.dstack.yml:3: registry_auth.password: Field required",
    ]);
    expect(problems("type: task\nimage: alpine\nrepos: [a, b]\n")).toEqual([
      "x.dstack.yml:3: repos: A maximum of one repo is currently supported",
    ]);
  });
});

describe("service", () => {
  test("a model service gets dstackai's default probe", () => {
    const { config, warnings } = parseConfiguration(
      "type: service\nname: llm\nimage: vllm/vllm-openai\ncommands: [vllm serve x]\nport: 8000\nmodel: meta/llama\nauth: false\n",
      "s.yml",
    );
    expect(warnings).toEqual([]);
    if (config.type !== "service") throw new Error("not a service");
    expect(config.port).toEqual({ localPort: 80, containerPort: 8000 });
    expect(config.model).toEqual({ name: "meta/llama", format: "openai", prefix: "/v1" });
    expect(config.probes?.[0]).toMatchObject({ url: "/v1/chat/completions", method: "post", timeout: 30 });
  });
  test("probes: [] disables them; explicit probes are parsed", () => {
    const a = parseConfiguration("type: service\nimage: x\nport: 80\nmodel: m\nprobes: []\nauth: false\n", "s.yml").config;
    expect(a.type === "service" && a.probes).toEqual([]);
    const b = parseConfiguration(
      "type: service\nimage: x\nport: 80\nauth: false\nprobes:\n  - type: http\n    url: /health\n    interval: 5s\n",
      "s.yml",
    ).config;
    expect(b.type === "service" && b.probes).toEqual([
      { url: "/health", method: "get", headers: [], timeout: 10, interval: 5, readyAfter: 1, untilReady: false },
    ]);
  });
  test("port is required", () => {
    expect(problems("type: service\nimage: x\nauth: false\n")).toEqual([
      "x.dstack.yml:1: port: Field required (the container port the service listens on)",
    ]);
  });
  test("auth left at its default warns; auth: true, gateway, https, replicas > 1 are refused with why", () => {
    const { warnings } = parseConfiguration("type: service\nimage: x\nport: 80\n", "s.yml");
    expect(warnings[0]!.message).toContain("auth needs a gateway");
    const out = problems("type: service\nimage: x\nport: 80\nauth: true\ngateway: true\nhttps: true\nreplicas: 2\n");
    expect(out).toHaveLength(4);
    expect(out[0]).toContain("auth: cannot be honoured: auth needs a gateway");
    expect(out[1]).toContain("gateway: cannot be honoured: a confidential host has no gateway yet");
    expect(out[2]).toContain("https: cannot be honoured");
    expect(out[3]).toContain("replicas: cannot be honoured");
  });
  test("services have no ports key", () => {
    expect(problems("type: service\nimage: x\nport: 80\nauth: false\nports: [80]\n")[0]).toContain(
      'ports: unknown key (Extra inputs are not permitted); did you mean "port"?',
    );
  });
});

describe("dev-environment (parsed for later)", () => {
  test("ide, init, inactivity_duration", () => {
    const { config } = parseConfiguration(
      "type: dev-environment\nide: vscode\npython: 3.12\ninit: [pip install x]\ninactivity_duration: 2h\n",
      "d.yml",
    );
    if (config.type !== "dev-environment") throw new Error("not a dev environment");
    expect(config.ide).toBe("vscode");
    expect(config.init).toEqual(["pip install x"]);
    expect(config.inactivityDuration).toBe(7200);
  });
  test("entrypoint is rejected; version requires ide", () => {
    expect(problems("type: dev-environment\nentrypoint: x\nversion: '1.2'\n")).toEqual([
      "x.dstack.yml:2: entrypoint: entrypoint is not supported for dev environments",
      "x.dstack.yml:3: version: version requires ide to be set",
    ]);
  });
});

describe("types", () => {
  test("fleet, volume, gateway, preset: not on a confidential host yet", () => {
    for (const t of ["fleet", "volume", "gateway", "preset"]) {
      expect(problems(`name: x\ntype: ${t}\n`)).toEqual([
        `x.dstack.yml:2: type: type: ${t} is not on a confidential host yet: \`dstack apply\` runs tasks and services here (each run is one CVM)`,
      ]);
    }
  });
  test("an unknown or missing type", () => {
    expect(problems("type: job\n")[0]).toContain('x.dstack.yml:1: type: Input tag "job" does not match any of the expected tags');
    expect(problems("name: x\n")[0]).toContain("Field required: type");
    expect(problems("")[0]).toContain("the configuration is empty");
    expect(problems("- a\n")[0]).toContain("must be a mapping");
  });
  test("YAML errors carry the line", () => {
    expect(problems("type: task\ncommands: [echo\n")[0]).toMatch(/^x\.dstack\.yml:\d+: \(yaml\): /);
  });
});
