import { describe, expect, test } from "bun:test";
import { containerCommand, joinCommands } from "../../../../src/core/dstack-yml/command-line.ts";
import { discoverConfiguration, displayPath } from "../../../../src/core/dstack-yml/discovery.ts";
import { formatDuration, parseDuration, parseOffDuration } from "../../../../src/core/dstack-yml/forms/duration.ts";
import { parseEnv, resolveEnv } from "../../../../src/core/dstack-yml/forms/env.ts";
import { looksLikeUrl, parseFileMapping, parseRepo } from "../../../../src/core/dstack-yml/forms/files.ts";
import { formatAppPort, mergePorts, parsePorts, parseServicePort } from "../../../../src/core/dstack-yml/forms/ports.ts";
import { shlexJoin, shlexSplit } from "../../../../src/core/dstack-yml/forms/shlex.ts";
import { parseVolume } from "../../../../src/core/dstack-yml/forms/volumes.ts";
import { parseRetry } from "../../../../src/core/dstack-yml/profile.ts";
import { UsageError } from "../../../../src/core/errors.ts";
import { grammarError } from "../../../helpers/grammar-error.ts";

describe("durations: one unit only", () => {
  const cases: [unknown, number][] = [
    [90, 90],
    ["90", 90],
    ["90s", 90],
    ["30m", 1800],
    ["2h", 7200],
    ["2 h", 7200],
    ["1d", 86400],
    ["1w", 604800],
  ];
  for (const [v, s] of cases) test(`${JSON.stringify(v)} = ${s}s`, () => expect(parseDuration(v)).toBe(s));
  test("1h30m is rejected", () => expect(grammarError(() => parseDuration("1h30m"))).toContain("not 1h30m"));
  test("printed in the largest unit that divides", () => {
    expect(formatDuration(300)).toBe("5m");
    expect(formatDuration(3 * 86400)).toBe("3d");
    expect(formatDuration(90)).toBe("90s");
    expect(formatDuration(7200)).toBe("2h");
    expect(formatDuration(1209600)).toBe("2w");
  });
  test("off semantics of max_duration", () => {
    expect(parseOffDuration(false)).toBe("off");
    expect(parseOffDuration("off")).toBe("off");
    expect(parseOffDuration(true)).toBeUndefined();
    expect(parseOffDuration("2h")).toBe(7200);
    expect(grammarError(() => parseOffDuration(-5))).toBe("Duration cannot be negative");
  });
});

describe("ports", () => {
  test("every form", () => {
    expect(parsePorts([8080, "8081", "80:8082", "*:8083", { local_port: 9000, container_port: 8084 }, { container_port: 8085 }])).toEqual([
      { localPort: 8080, containerPort: 8080 },
      { localPort: 8081, containerPort: 8081 },
      { localPort: 80, containerPort: 8082 },
      { localPort: null, containerPort: 8083 },
      { localPort: 9000, containerPort: 8084 },
      { localPort: 8085, containerPort: 8085 },
    ]);
  });
  test("printed forms", () => {
    expect(parsePorts([8080, "80:8082", "*:8083"]).map(formatAppPort)).toEqual(["8080", "80:8082", "*:8083"]);
  });
  test("range and uniqueness", () => {
    expect(grammarError(() => parsePorts([70000]))).toContain("ports are 1..65535");
    expect(grammarError(() => parsePorts([0]))).toContain("ports are 1..65535");
    expect(grammarError(() => parsePorts([8080, "9000:8080"]))).toContain("Port 8080 is used more than once");
    expect(grammarError(() => parsePorts(["a:b:c"]))).toContain("Invalid port mapping");
  });
  test("YAML 1.1 sexagesimal: an unquoted 2222:22 is the int 133342, out of range", () => {
    expect(grammarError(() => parsePorts([133342]))).toContain("Invalid port 133342");
  });
  test("a service's port: an int N listens on N (local 80)", () => {
    expect(parseServicePort(8000)).toEqual({ localPort: 80, containerPort: 8000 });
    expect(parseServicePort("8080:8000")).toEqual({ localPort: 8080, containerPort: 8000 });
    expect(parseServicePort({ container_port: 8000, local_port: 8001 })).toEqual({ localPort: 8001, containerPort: 8000 });
  });
  test("-p over ports: (dstackai's _merge_ports): replaced in place by container port, new ones after", () => {
    const conf = parsePorts([8080, "9000:9001", "*:7000"]);
    expect(mergePorts(conf, parsePorts(["81:9001", 5000, "*:8080"])).map(formatAppPort)).toEqual(["*:8080", "81:9001", "*:7000", "5000"]);
    expect(mergePorts(conf, [])).toEqual(conf);
    expect(mergePorts([], parsePorts(["*:1", "*:2"])).map(formatAppPort)).toEqual(["*:1", "*:2"]); // any number of free-port picks
  });
  test("-p: a container port twice, or a local port bound twice after the merge, is dstackai's error", () => {
    const conf = parsePorts([8080, "9000:9001"]);
    expect(
      grammarError(() =>
        mergePorts(conf, [
          { localPort: 1, containerPort: 80 },
          { localPort: 2, containerPort: 80 },
        ]),
      ),
    ).toBe("Port 80 is already in use");
    expect(grammarError(() => mergePorts(conf, parsePorts(["9000:8080"])))).toBe("Port 9000 is already in use");
    expect(mergePorts(conf, parsePorts(["9000:8080", "9001"])).map(formatAppPort)).toEqual(["9000:8080", "9001"]); // moved, not clashing
  });
});

describe("env", () => {
  test("the list form: VAR=value, VAR= (empty), VAR (from the environment); the value is all after the first =", () => {
    expect([...parseEnv(["A=1", "B=", "C", "D=x=y"])]).toEqual([
      ["A", "1"],
      ["B", ""],
      ["C", undefined],
      ["D", "x=y"],
    ]);
  });
  test("duplicates are dstackai's error", () =>
    expect(grammarError(() => parseEnv(["A=1", "A=2"]))).toBe("Duplicate environment variable: A=2"));
  test("bad names", () => expect(grammarError(() => parseEnv(["1A=1"]))).toContain("Invalid environment variable"));
  test("the map form: numbers become strings; a YAML boolean says to quote it", () => {
    expect([...parseEnv({ A: "x", B: 3 })]).toEqual([
      ["A", "x"],
      ["B", "3"],
    ]);
    expect(grammarError(() => parseEnv({ DEBUG: true }))).toContain("quote it");
  });
  test("resolution: -e overrides, names without a value from the environment, else dstackai's error", () => {
    const spec = parseEnv(["A=file", "B", "C=keep"]);
    const got = resolveEnv(spec, ["A=cli", "D"], { B: "from-env", D: "d" });
    expect([...got]).toEqual([
      ["A", "cli"],
      ["B", "from-env"],
      ["C", "keep"],
      ["D", "d"],
    ]);
    expect(grammarError(() => resolveEnv(parseEnv(["HF_TOKEN"]), [], {}))).toBe("Environment variable HF_TOKEN is not set");
    expect(grammarError(() => resolveEnv(parseEnv(["A=1"]), ["A"], {}))).toBe("Environment variable A is not set");
  });
});

describe("volumes", () => {
  test("a src with / is an instance volume; objects with optional", () => {
    expect(parseVolume("/cache:/root/.cache")).toEqual({ kind: "instance", instancePath: "/cache", path: "/root/.cache", optional: false });
    expect(parseVolume({ instance_path: "/mnt/hf", path: "/root/.cache/huggingface", optional: true })).toEqual({
      kind: "instance",
      instancePath: "/mnt/hf",
      path: "/root/.cache/huggingface",
      optional: true,
    });
  });
  test("a bare name is a network volume", () => {
    expect(parseVolume("my-vol:/data")).toEqual({ kind: "network", name: ["my-vol"], path: "/data" });
    expect(parseVolume({ name: ["a", "b"], path: "/data" })).toEqual({ kind: "network", name: ["a", "b"], path: "/data" });
  });
  test("paths are absolute without ..", () => {
    expect(grammarError(() => parseVolume("/cache:data"))).toContain("must be absolute");
    expect(grammarError(() => parseVolume("/cache:/a/../b"))).toContain("must not contain ..");
  });
});

describe("files and repos", () => {
  test("files items (dstackai's table)", () => {
    expect(parseFileMapping(".:examples")).toEqual({ localPath: ".", path: "examples" });
    expect(parseFileMapping("../examples")).toEqual({ localPath: "../examples", path: "../examples" });
    expect(parseFileMapping("~/.cache/huggingface/token")).toEqual({
      localPath: "~/.cache/huggingface/token",
      path: "~/.cache/huggingface/token",
    });
    expect(parseFileMapping({ local_path: "a.txt", path: "/w/a.txt" })).toEqual({ localPath: "a.txt", path: "/w/a.txt" });
  });
  test("URL recognition", () => {
    expect(looksLikeUrl("https://github.com/org/repo")).toBe(true);
    expect(looksLikeUrl("git@github.com:org/repo.git")).toBe(true);
    expect(looksLikeUrl("../repo")).toBe(false);
    expect(looksLikeUrl("repo:/work")).toBe(false);
  });
  test("repo strings and objects", () => {
    expect(parseRepo("https://github.com/org/repo")).toEqual({ url: "https://github.com/org/repo", ifExists: "error" });
    expect(parseRepo("https://github.com/org/repo:/work")).toEqual({
      url: "https://github.com/org/repo",
      path: "/work",
      ifExists: "error",
    });
    expect(parseRepo("git@github.com:org/repo.git")).toEqual({ url: "git@github.com:org/repo.git", ifExists: "error" });
    expect(parseRepo("..:/work")).toEqual({ localPath: "..", path: "/work", ifExists: "error" });
    expect(parseRepo({ url: "https://x/y", hash: "abc", if_exists: "skip" })).toEqual({
      url: "https://x/y",
      hash: "abc",
      ifExists: "skip",
    });
    expect(grammarError(() => parseRepo({ url: "https://x/y", local_path: "." }))).toBe("Specify either local_path or url");
  });
});

describe("retry", () => {
  test("true = all events for 1h; an object; an empty list is an error", () => {
    expect(parseRetry(true)).toEqual({ onEvents: ["no-capacity", "interruption", "error"], duration: 3600 });
    expect(parseRetry(false)).toBeUndefined();
    expect(parseRetry({ on_events: ["error"], duration: "30m" })).toEqual({ onEvents: ["error"], duration: 1800 });
    expect(parseRetry({ duration: "2h" })).toEqual({ onEvents: ["no-capacity", "interruption", "error"], duration: 7200 });
    expect(grammarError(() => parseRetry({ on_events: [] }))).toContain("at least one event");
    expect(grammarError(() => parseRetry({ on_events: ["oom"] }))).toContain("'no-capacity'");
  });
});

describe("shlex", () => {
  test("split as Python's shlex.split", () => {
    expect(shlexSplit(`python -m "my app" --x='a b' c\\ d`)).toEqual(["python", "-m", "my app", "--x=a b", "c d"]);
    expect(shlexSplit("  ")).toEqual([]);
    expect(() => shlexSplit(`echo "x`)).toThrow("No closing quotation");
  });
  test("join quotes what needs it", () => expect(shlexJoin(["a", "b c", "it's", ""])).toBe(`a 'b c' 'it'"'"'s' ''`));
});

describe("the container's command line", () => {
  test("commands → [shell, -i, -c, c1 && c2]; bash without an image, sh with one", () => {
    expect(containerCommand({ commands: ["pip install -r r.txt", "python train.py"] })).toEqual({
      entrypoint: ["/bin/bash", "-i", "-c", "pip install -r r.txt && python train.py"],
    });
    expect(containerCommand({ commands: ["echo hi"], image: "alpine" })).toEqual({ entrypoint: ["/bin/sh", "-i", "-c", "echo hi"] });
    expect(containerCommand({ commands: ["echo hi"], image: "alpine", shell: "/bin/ash" })).toEqual({
      entrypoint: ["/bin/ash", "-i", "-c", "echo hi"],
    });
  });
  test("a command ending in & is wrapped", () => expect(joinCommands(["server &", "sleep 1"])).toBe("{ server & } && sleep 1"));
  test("entrypoint + commands; neither = the image's own", () => {
    expect(containerCommand({ commands: ["--port", "80"], entrypoint: "python -m http.server" })).toEqual({
      entrypoint: ["python", "-m", "http.server"],
      command: ["--port", "80"],
    });
    expect(containerCommand({ commands: [], entrypoint: "serve" })).toEqual({ entrypoint: ["serve"] });
    expect(containerCommand({ commands: [], image: "nginx" })).toEqual({});
  });
});

describe("discovery", () => {
  const has = (names: string[]) => (n: string) => names.includes(n);
  test("-f FILE; else .dstack.yml, then .dstack.yaml", () => {
    expect(discoverConfiguration("x.dstack.yml", false, has([]))).toEqual({ kind: "file", path: "x.dstack.yml" });
    expect(discoverConfiguration(undefined, false, has([".dstack.yml", ".dstack.yaml"]))).toEqual({ kind: "file", path: ".dstack.yml" });
    expect(discoverConfiguration(undefined, false, has([".dstack.yaml"]))).toEqual({ kind: "file", path: ".dstack.yaml" });
  });
  test("nothing found is dstackai's error", () => {
    expect(() => discoverConfiguration(undefined, false, has([]))).toThrow(
      "No configuration file specified via -f and no default .dstack.yml configuration found",
    );
  });
  test("-f - needs -y", () => {
    expect(() => discoverConfiguration("-", false, has([]))).toThrow(UsageError);
    expect(() => discoverConfiguration("-", false, has([]))).toThrow("Cannot read configuration from stdin if -y/--yes is not specified");
    expect(discoverConfiguration("-", true, has([]))).toEqual({ kind: "stdin" });
    expect(displayPath({ kind: "stdin" })).toBe("-");
  });
});
