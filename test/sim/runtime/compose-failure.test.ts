/** The boot error of a failed `compose up`: compose's last line, and the images the engine lacks. */
import { describe, expect, test } from "bun:test";
import { composeFailure, lastComposeLine } from "../../../src/sim/runtime/compose-failure.ts";
import { deriveCompose } from "../../../src/sim/runtime/derive.ts";

/** docker-compose 1.29's output when the registry cannot be reached */
const V1_PULL = [
  'Creating network "dsim-1_default" with the default driver',
  "Pulling app (nginx:)...",
  'Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host',
  "",
].join("\n");

describe("composeFailure", () => {
  test("a missing image: named, with the engine's error", () => {
    expect(composeFailure(V1_PULL, 1, ["nginx"])).toBe(
      'failed to start containers: image nginx is not on this host and could not be pulled: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host',
    );
  });

  test("several missing images are listed", () => {
    expect(composeFailure("boom\n", 1, ["a:1", "b:2"])).toBe(
      "failed to start containers: images a:1, b:2 are not on this host and could not be pulled: boom",
    );
  });

  test("images all present: compose's last line alone; no output: its exit code", () => {
    expect(composeFailure("Creating x ...\nERROR: for app  Cannot start service app: oci runtime error\n", 1, [])).toBe(
      "failed to start containers: ERROR: for app  Cannot start service app: oci runtime error",
    );
    expect(composeFailure("", 127, [])).toBe("failed to start containers: compose exited with 127");
  });

  test("colour codes, carriage returns and trailing blank lines are not the last line", () => {
    expect(lastComposeLine("\x1b[31mERROR\x1b[0m: no such image\r\n\r\n  \n")).toBe("ERROR: no such image");
  });
});

describe("deriveCompose lists the images compose would pull", () => {
  test("each service's image once; not one it builds, not one with ${…} in it", () => {
    const yaml = [
      "services:",
      "  a: { image: nginx:1.27 }",
      "  b: { image: nginx:1.27 }",
      "  c: { image: mine:dev, build: . }",
      "  d: { image: 'x/${TAG}' }",
      "  e: { image: local/httpd:test }",
    ].join("\n");
    const d = deriveCompose({ yaml, project: "p", guestAddress: "127.1.2.3", guestRoot: "/g", labels: {} });
    expect(d.images).toEqual(["nginx:1.27", "local/httpd:test"]);
  });
});
