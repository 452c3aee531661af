import { describe, expect, test } from "bun:test";
import { parse as parseYaml } from "yaml";
import { validateDockerCompose } from "../../../src/core/compose/docker-compose-check.ts";
import { composeFromImage } from "../../../src/core/compose/image-compose.ts";
import { yamlQuote } from "../../../src/core/compose/yaml-quote.ts";
import { ALPHABETS, randString, rng } from "./gen.ts";

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
