import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { getComposeHash } from "@phala/dstack-sdk/get-compose-hash";
import { parse as parseYaml } from "yaml";
import {
  appComposeBootProblems,
  appComposeManifest,
  appIdOf,
  buildAppCompose,
  canonicalJson,
  composeFromImage,
  composeHashOf,
  composeVariables,
  InvalidAppComposeError,
  InvalidDockerComposeError,
  parseAppCompose,
  serializeAppCompose,
  validateDockerCompose,
  variablesIn,
  yamlQuote,
} from "../../../src/core/compose/app-compose.ts";
import { UsageError } from "../../../src/core/errors.ts";

// kms-auth.md §4.4: examples/hello-nginx/docker-compose.yaml
const HELLO_YAML =
  '# SPDX-FileCopyrightText: © 2026 Phala Network <dstack@phala.network>\n#\n# SPDX-License-Identifier: Apache-2.0\n\nservices:\n  web:\n    image: nginx:alpine\n    ports:\n      - "80:80"\n';

function helloManifest(): Record<string, unknown> {
  // the 11 keys in the Rust source's insertion order
  return {
    manifest_version: 2,
    name: "hello-nginx",
    runner: "docker-compose",
    docker_compose_file: HELLO_YAML,
    kms_enabled: true,
    gateway_enabled: false,
    local_key_provider_enabled: false,
    public_logs: true,
    public_sysinfo: true,
    no_instance_id: false,
    secure_time: false,
  };
}

function sortDeep(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(sortDeep);
  if (x && typeof x === "object") {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(x).sort()) o[k] = sortDeep((x as Record<string, unknown>)[k]);
    return o;
  }
  return x;
}

const sha = (s: string) => createHash("sha256").update(Buffer.from(s, "utf8")).digest("hex");

describe("worked example (kms-auth.md §4.4)", () => {
  test("compact key-sorted form matches the reference hash and the SDK", () => {
    const m = helloManifest();
    const built = serializeAppCompose(m as never);
    expect(built.composeHash).toBe("8b0dc54dad4f5e3e8b79ebea952c3ec032e3e002ab91b64488b40da6e1707656");
    expect(built.appId).toBe("8b0dc54dad4f5e3e8b79ebea952c3ec032e3e002");
    expect(getComposeHash(m as never)).toBe(built.composeHash);
    expect(sha(built.composeFile)).toBe(built.composeHash);
  });
  test("the other serialisations of §4.4 give the other hashes (hash = exact bytes)", () => {
    const m = helloManifest();
    const pretty = JSON.stringify(m, null, 2);
    expect(composeHashOf(pretty)).toBe("6d763a07aae72d4bf2ec85ef393472fa6a59ad1f286de800212b4e4f88709246");
    expect(appIdOf(composeHashOf(pretty))).toBe("6d763a07aae72d4bf2ec85ef393472fa6a59ad1f");
    const sortedPretty = JSON.stringify(sortDeep(m), null, 2);
    expect(Buffer.byteLength(sortedPretty)).toBe(492);
    expect(composeHashOf(sortedPretty)).toBe("2db0a9e4cd6ad84a10b541799d6ce9d25ab442a790605a10bde1a11e699e9434");
  });
  test("buildAppCompose with our defaults adds only allowed_envs to the 11 upstream keys", () => {
    const b = buildAppCompose({ name: "hello-nginx", dockerCompose: HELLO_YAML });
    const { allowed_envs, ...rest } = b.manifest;
    expect(allowed_envs).toEqual([]);
    expect(rest).toEqual(helloManifest() as never);
    expect(b.composeFile.includes(HELLO_YAML.replaceAll("\n", "\\n").replaceAll('"', '\\"'))).toBe(true);
    expect(JSON.parse(b.composeFile).docker_compose_file).toBe(HELLO_YAML); // verbatim
  });
});

// ---- generated manifests vs the SDK ------------------------------------------------

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABETS = [
  "abcdefghijklmnopqrstuvwxyz",
  "ABCXYZ0123456789-_. @~!$^()",
  "äöüßéñçø",
  "日本語中文한국어",
  "😀🚀🔐𝔘𝔫𝔦",
  '"\\/\n\t\r\b\f\u0000\u001f\u007f\u2028\u2029\ufeff',
  "$${}'`#:-[]{}&*!|>%@",
];

function randString(r: () => number, max: number, alphabets = ALPHABETS): string {
  const n = Math.floor(r() * max);
  let s = "";
  for (let i = 0; i < n; i++) {
    const a = [...alphabets[Math.floor(r() * alphabets.length)]!];
    s += a[Math.floor(r() * a.length)]!;
  }
  return s;
}

function randName(r: () => number): string {
  const chars = "ABCXYZabcxyz0123456789-_. @~!$^()";
  let s = "";
  const n = 1 + Math.floor(r() * 30);
  for (let i = 0; i < n; i++) s += chars[Math.floor(r() * chars.length)]!;
  return s;
}

function randEnvName(r: () => number): string {
  const first = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_";
  const rest = `${first}0123456789`;
  let s = first[Math.floor(r() * first.length)]!;
  const n = Math.floor(r() * 20);
  for (let i = 0; i < n; i++) s += rest[Math.floor(r() * rest.length)]!;
  return s;
}

describe("compose hash parity with @phala/dstack-sdk getComposeHash", () => {
  test("≥200 generated manifests (images, ports, envs, commands, raw YAML with unicode)", () => {
    const r = rng(20261122);
    let compared = 0;
    for (let i = 0; i < 240; i++) {
      const envs = Array.from({ length: Math.floor(r() * 6) }, () => randEnvName(r));
      let yaml: string;
      if (i % 2 === 0) {
        const ports = Array.from({ length: Math.floor(r() * 4) }, () => ({
          vmPort: 1 + Math.floor(r() * 65535),
          protocol: (r() < 0.2 ? "udp" : "tcp") as "tcp" | "udp",
        }));
        const command = r() < 0.5 ? Array.from({ length: Math.floor(r() * 4) }, () => randString(r, 12)) : undefined;
        const image = ["nginx", "nginx:1.27-alpine", "ghcr.io/org/app:v1", "localhost:5000/a/b_c", `redis@sha256:${"ab".repeat(32)}`][
          i % 5
        ]!;
        yaml = composeFromImage({ image, ports, env: envs, command });
      } else {
        yaml =
          `# ${randString(r, 40)}\nservices:\n  web:\n    image: ${JSON.stringify(randString(r, 20))}\n${randString(r, 200)}`;
      }
      const opts = {
        name: randName(r),
        dockerCompose: yaml,
        kms: r() < 0.8,
        allowedEnvs: envs,
        runner: (r() < 0.2 ? "nerdctl-compose" : "docker-compose") as "docker-compose" | "nerdctl-compose",
        publicLogs: r() < 0.5,
        secureTime: r() < 0.3,
        extra:
          r() < 0.3
            ? { public_tcbinfo: r() < 0.5, storage_fs: "ext4", swap_size: Math.floor(r() * 1e9), init_script: [randString(r, 30)] }
            : undefined,
      };
      const b = buildAppCompose(opts);
      expect(getComposeHash(b.manifest as never)).toBe(b.composeHash);
      expect(sha(b.composeFile)).toBe(b.composeHash);
      expect(b.appId).toBe(b.composeHash.slice(0, 40));
      expect(b.composeHash).toMatch(/^[0-9a-f]{64}$/);
      // the JSON text round-trips to the manifest and passes our own validator
      expect(JSON.parse(b.composeFile)).toEqual(JSON.parse(JSON.stringify(b.manifest)));
      expect(parseAppCompose(b.composeFile).name).toBe(opts.name);
      compared++;
    }
    expect(compared).toBe(240);
  });

  test("canonicalJson equals JSON.stringify of a key-sorted copy for nested values", () => {
    const r = rng(7);
    for (let i = 0; i < 50; i++) {
      const obj = {
        [randEnvName(r)]: randString(r, 10),
        z: [1, 2.5, -0, 1e21, { b: true, a: null, [randEnvName(r)]: [randString(r, 5)] }],
        a: { y: "ü", x: "😀" },
        n: { "10": 1, "2": 2, b: 3, "01": 4, "-1": 5, "4294967295": 6, "4294967294": 7, [String(Math.floor(r() * 1000))]: 8 },
      };
      expect(canonicalJson(obj)).toBe(JSON.stringify(sortDeep(obj)));
      expect(composeHashOf(canonicalJson(obj))).toBe(getComposeHash(obj as never));
    }
  });
});

describe("buildAppCompose options", () => {
  test("--no-kms, nerdctl, allowed_envs dedup, extra keys", () => {
    const b = buildAppCompose({
      name: "a",
      dockerCompose: "services: {}\n",
      kms: false,
      runner: "nerdctl-compose",
      snapshotter: "stargz",
      allowedEnvs: ["B", "A", "B"],
      extra: { public_tcbinfo: false },
    });
    expect(b.manifest.kms_enabled).toBe(false);
    expect(b.manifest.manifest_version).toBe("3");
    expect(b.manifest.allowed_envs).toEqual(["B", "A"]);
    expect(b.composeFile.startsWith('{"allowed_envs":["B","A"],"docker_compose_file"')).toBe(true);
    expect(b.manifest.public_tcbinfo).toBe(false);
  });
  test("allowed_envs changes the hash (values do not enter the manifest)", () => {
    const a = buildAppCompose({ name: "a", dockerCompose: "x" });
    const b = buildAppCompose({ name: "a", dockerCompose: "x", allowedEnvs: ["K"] });
    expect(a.composeHash).not.toBe(b.composeHash);
  });
  test("bad name, env name, snapshotter → UsageError naming the flag", () => {
    expect(() => buildAppCompose({ name: "a/b", dockerCompose: "" })).toThrow(/invalid --name "a\/b"/);
    expect(() => buildAppCompose({ name: "", dockerCompose: "" })).toThrow(UsageError);
    expect(() => buildAppCompose({ name: "a", dockerCompose: "", allowedEnvs: ["1X"] })).toThrow(/invalid --env name "1X"/);
    expect(() => buildAppCompose({ name: "a", dockerCompose: "", snapshotter: "stargz" })).toThrow(/nerdctl-compose/);
  });
  test("appIdOf normalises and rejects non-hashes", () => {
    expect(appIdOf(`0X${"AB".repeat(32)}`)).toBe("ab".repeat(20));
    expect(() => appIdOf("xyz")).toThrow(UsageError);
  });
  test("appComposeManifest is deterministic", () => {
    const o = { name: "n", dockerCompose: "y", allowedEnvs: ["A"] };
    expect(canonicalJson(appComposeManifest(o))).toBe(canonicalJson(appComposeManifest(o)));
  });
});

describe("composeFromImage", () => {
  test("image, ports (VM side), env names as ${NAME}, command — golden text", () => {
    const y = composeFromImage({
      image: "nginx",
      ports: [{ vmPort: 80 }, { vmPort: 53, protocol: "udp" }, { vmPort: 80 }],
      env: ["KEY", "OTHER"],
      command: ["sh", "-c", 'echo "$HOME" ok'],
    });
    expect(y).toBe(
      [
        "services:",
        "  app:",
        '    image: "nginx"',
        '    restart: "unless-stopped"',
        "    ports:",
        '      - "80:80"',
        '      - "53:53/udp"',
        "    environment:",
        '      KEY: "${KEY}"',
        '      OTHER: "${OTHER}"',
        "    command:",
        '      - "sh"',
        '      - "-c"',
        '      - "echo \\"$$HOME\\" ok"',
        "",
      ].join("\n"),
    );
  });
  test("no ports/env/command → only image and restart", () => {
    expect(composeFromImage({ image: "redis:7" })).toBe('services:\n  app:\n    image: "redis:7"\n    restart: "unless-stopped"\n');
  });
  test("arbitrary command args survive YAML parsing exactly ($ doubled for compose)", async () => {
    const r = rng(99);
    for (let i = 0; i < 100; i++) {
      const command = Array.from({ length: 1 + Math.floor(r() * 5) }, () =>
        randString(r, 15, ALPHABETS.slice(0, 5).concat(["\"\\\n\t\u0001\u007f\u0085\u2028#: -[]{}'`"])),
      );
      const y = composeFromImage({ image: "alpine", command, env: ["A_1"] });
      const doc = parseYaml(y) as { services: { app: { command: string[]; environment: Record<string, string> } } };
      expect(doc.services.app.command).toEqual(command.map((a) => a.split("$").join("$$")));
      expect(doc.services.app.environment).toEqual({ A_1: "${A_1}" });
      await validateDockerCompose(y);
    }
  });
  test("rejects bad images, env names, ports, lone surrogates", () => {
    for (const img of ["", "Nginx", "nginx latest", "a//b", "nginx:", "-x", "a:b:c", "x@sha256:short"]) {
      expect(() => composeFromImage({ image: img })).toThrow(/invalid image/);
    }
    expect(() => composeFromImage({ image: "a", env: ["A-B"] })).toThrow(/invalid --env name/);
    expect(() => composeFromImage({ image: "a", ports: [{ vmPort: 0 }] })).toThrow(/invalid VM port/);
    expect(() => composeFromImage({ image: "a", command: ["\ud800"] })).toThrow(/surrogate/);
    expect(yamlQuote("😀")).toBe('"😀"');
  });
});

describe("parseAppCompose (what the VMM/guest accept)", () => {
  const ok = '{"manifest_version":2,"name":"a","runner":"docker-compose","docker_compose_file":"services: x"}';
  test("accepts a minimal manifest and keeps unknown keys", () => {
    const m = parseAppCompose(ok.replace("}", ',"x_custom":[1]}'));
    expect(m.name).toBe("a");
    expect(m.x_custom).toEqual([1]);
    expect(parseAppCompose(ok.replace('"manifest_version":2', '"manifest_version":"3"')).manifest_version).toBe("3");
  });
  const bad: [string, RegExp][] = [
    ["not json", /invalid app compose JSON/],
    ["[1]", /top level must be an object/],
    ['{"name":"a","runner":"docker-compose"}', /manifest_version: missing \(required\)/],
    ['{"manifest_version":3,"name":"a","runner":"x"}', /manifest_version/],
    ['{"manifest_version":"03","name":"a","runner":"x"}', /manifest_version/],
    ['{"manifest_version":"0","name":"a","runner":"x"}', /manifest_version/],
    ['{"manifest_version":2.5,"name":"a","runner":"x"}', /manifest_version/],
    ['{"manifest_version":2,"runner":"x"}', /name: missing/],
    ['{"manifest_version":2,"name":"a"}', /runner: missing/],
    ['{"manifest_version":2,"name":"a","runner":"x","kms_enabled":"yes"}', /kms_enabled/],
    ['{"manifest_version":2,"name":"a","runner":"x","key_provider":"foo"}', /invalid key_provider/],
    [
      '{"manifest_version":2,"name":"a","runner":"x","verity_volumes":[{"source":"a","verity_root":"zz","target":"/x"}]}',
      /invalid verity_volumes in app-compose: verity_volumes\.0\.verity_root/,
    ],
    ['{"manifest_version":2,"name":"a","runner":"x","allowed_envs":"A"}', /allowed_envs/],
    ['{"manifest_version":2,"name":"a","runner":"x","init_script":["1","2","3","4","5","6"]}', /init_script/],
  ];
  for (const [text, re] of bad) {
    test(`rejects ${text.slice(0, 60)}`, () => {
      let err: unknown;
      try {
        parseAppCompose(text);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InvalidAppComposeError);
      expect((err as Error).message).toMatch(re);
      expect((err as InvalidAppComposeError).exitCode).toBe(2);
    });
  }
  test("key_provider null is accepted (treated as absent)", () => {
    expect(parseAppCompose(ok.replace("}", ',"key_provider":null}')).key_provider).toBeNull();
  });
  test("boot problems: unknown runner, missing compose, bad env names", () => {
    expect(appComposeBootProblems(parseAppCompose(ok))).toEqual([]);
    const m = parseAppCompose('{"manifest_version":2,"name":"a","runner":"podman","allowed_envs":["1A"]}');
    const p = appComposeBootProblems(m);
    expect(p.some((x) => x.includes("unknown runner"))).toBe(true);
    expect(p.some((x) => x.includes('"1A"'))).toBe(true);
    expect(appComposeBootProblems(parseAppCompose('{"manifest_version":2,"name":"a","runner":"docker-compose"}'))[0]).toMatch(
      /needs a docker_compose_file/,
    );
  });
});

describe("validateDockerCompose", () => {
  test("accepts the worked example and reports services", async () => {
    expect(await validateDockerCompose(HELLO_YAML)).toEqual({ services: ["web"] });
  });
  const cases: [string, RegExp][] = [
    ["", /empty/],
    ["- a\n- b\n", /top level must be a mapping/],
    ["version: '3'\n", /no `services:`/],
    ["services: []\n", /line 1, column 1: `services:` must be a mapping/],
    ["services:\n  web:\n    image: a\n  api:\n    build: ./api\n", /line 5, column 5: service "api" uses `build:`/],
    ["services:\n  web:\n    ports: [80]\n", /line 2, column 3: service "web" has no `image:`/],
    ["services:\n  web:\n    image: a\n    image: b\n", /line 4.*[Mm]ap keys must be unique/],
    ["services:\n  web: [\n", /line \d+, column \d+: /],
    ["services:\n  web:\n    image: a\n---\nservices: {}\n", /line 4, column 1: more than one YAML document/],
    ["services:\n  web:\n    image: 12\n", /line 3, column 5: service "web": `image:` must be a non-empty string/],
  ];
  for (const [text, re] of cases) {
    test(`rejects ${JSON.stringify(text).slice(0, 50)}`, async () => {
      const err = await validateDockerCompose(text, "c.yml").catch((e) => e);
      expect(err).toBeInstanceOf(InvalidDockerComposeError);
      expect(err.message).toMatch(/^c\.yml is not a usable docker-compose file/);
      expect(err.message).toMatch(re);
      expect(err.exitCode).toBe(2);
    });
  }
});

describe("composeVariables", () => {
  test("finds ${X}, $X and defaults; $$ is literal; keys and comments do not count", async () => {
    const yaml = [
      "# $COMMENTED is not interpolated",
      "services:",
      "  web:",
      '    image: "nginx:${TAG:-latest}"',
      "    environment:",
      "      DB_PASSWORD: ${DB_PASSWORD}",
      "      PLAIN: $API_KEY",
      '      LITERAL: "$$NOT_A_VAR"',
      "      REQUIRED: ${NEED:?set it}",
      "      ALT: ${X+yes}",
      "      $KEYVAR: 1",
      '    command: ["sh", "-c", "echo ${DB_PASSWORD} $$HOME"]',
    ].join("\n");
    expect(await composeVariables(yaml)).toEqual([
      { name: "TAG", optional: true },
      { name: "DB_PASSWORD", optional: false },
      { name: "API_KEY", optional: false },
      { name: "NEED", optional: false },
      { name: "X", optional: true },
    ]);
  });
  test("a generated compose references exactly its env names", async () => {
    const y = composeFromImage({ image: "a", env: ["A", "B_2"], command: ["echo", "$HOME", "${A}"] });
    expect(await composeVariables(y)).toEqual([
      { name: "A", optional: false },
      { name: "B_2", optional: false },
    ]);
    expect(variablesIn("x $$y ${Z:-1} $W")).toEqual([
      { name: "Z", optional: true },
      { name: "W", optional: false },
    ]);
  });
});
