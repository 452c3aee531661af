import { describe, expect, test } from "bun:test";
import { InvalidDockerComposeError, validateDockerCompose } from "../../../src/core/compose/docker-compose-check.ts";
import { HELLO_YAML } from "./gen.ts";

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
