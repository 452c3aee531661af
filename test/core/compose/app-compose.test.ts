import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { getComposeHash } from "@phala/dstack-sdk/get-compose-hash";
import { appComposeManifest, appIdOf, buildAppCompose, composeHashOf, serializeAppCompose } from "../../../src/core/compose/app-compose.ts";
import { parseAppCompose } from "../../../src/core/compose/app-compose-parse.ts";
import { canonicalJson } from "../../../src/core/compose/canonical-json.ts";
import { composeFromImage } from "../../../src/core/compose/image-compose.ts";
import { UsageError } from "../../../src/core/errors.ts";
import { HELLO_YAML, helloManifest, randEnvName, randName, randString, rng, sortDeep } from "./gen.ts";

const sha = (s: string) => createHash("sha256").update(Buffer.from(s, "utf8")).digest("hex");

describe("worked example (upstream examples/hello-nginx)", () => {
  test("compact key-sorted form matches the reference hash and the SDK", () => {
    const m = helloManifest();
    const built = serializeAppCompose(m as never);
    expect(built.composeHash).toBe("8b0dc54dad4f5e3e8b79ebea952c3ec032e3e002ab91b64488b40da6e1707656");
    expect(built.appId).toBe("8b0dc54dad4f5e3e8b79ebea952c3ec032e3e002");
    expect(getComposeHash(m as never)).toBe(built.composeHash);
    expect(sha(built.composeFile)).toBe(built.composeHash);
  });
  test("the other serialisations of the example give the other hashes (hash = exact bytes)", () => {
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
        yaml = `# ${randString(r, 40)}\nservices:\n  web:\n    image: ${JSON.stringify(randString(r, 20))}\n${randString(r, 200)}`;
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
