import { describe, expect, test } from "bun:test";
import { devConnection } from "../../../src/core/dev-env/connection.ts";

const d = (configuration: Record<string, unknown>) => ({ type: "dev-environment", name: "dev", configuration_path: "x", configuration });

describe("how the client reaches into a dev environment", () => {
  test("defaults: root, the compose's working_dir, no IDE", () => {
    expect(devConnection(d({}), 'services:\n  run:\n    working_dir: "/dstack/run"\n')).toEqual({
      user: "root",
      workingDir: "/dstack/run",
    });
  });

  test("the run's user (without its group), working_dir (~ expanded) and IDE", () => {
    expect(devConnection(d({ user: "dev:dev", working_dir: "~/code", ide: "cursor" }), "")).toEqual({
      user: "dev",
      workingDir: "/home/dev/code",
      ide: "cursor",
    });
  });

  test("no working dir anywhere: the user's home; an unknown IDE is none", () => {
    expect(devConnection(d({ ide: "emacs" }), "services:\n")).toEqual({ user: "root", workingDir: "/root" });
  });
});
