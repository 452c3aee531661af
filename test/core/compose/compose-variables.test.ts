import { describe, expect, test } from "bun:test";
import { composeVariables, variablesIn } from "../../../src/core/compose/compose-variables.ts";
import { composeFromImage } from "../../../src/core/compose/image-compose.ts";

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
