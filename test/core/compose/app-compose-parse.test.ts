import { describe, expect, test } from "bun:test";
import { appComposeBootProblems, InvalidAppComposeError, parseAppCompose } from "../../../src/core/compose/app-compose-parse.ts";

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
