import { describe, expect, test } from "bun:test";
import { knobsFromEnv } from "../../src/core/knobs.ts";

const env = {
  DSTACK_TOOL_PATH: "/t/bin",
  DSTACK_DEV_ROOT: "/t/dev",
  DSTACK_CPUINFO: "/t/cpuinfo",
  DSTACK_SYSTEMD_DIR: "/t/units",
};

describe("test knobs from the environment", () => {
  test("honoured in test mode, not as root", () => {
    expect(knobsFromEnv({ ...env, DSTACK_TEST_MODE: "1" }, 1000)).toEqual({
      toolPath: "/t/bin",
      devRoot: "/t/dev",
      cpuinfo: "/t/cpuinfo",
      systemdDir: "/t/units",
    });
    expect(knobsFromEnv({ DSTACK_TEST_MODE: "1", DSTACK_CPUINFO: "/t/cpuinfo", DSTACK_TOOL_PATH: "" }, 1000)).toEqual({
      cpuinfo: "/t/cpuinfo",
    });
  });
  test("ignored without test mode, and always as root", () => {
    expect(knobsFromEnv(env, 1000)).toEqual({});
    expect(knobsFromEnv({ ...env, DSTACK_TEST_MODE: "yes" }, 1000)).toEqual({});
    expect(knobsFromEnv({ ...env, DSTACK_TEST_MODE: "1" }, 0)).toEqual({});
  });
});
