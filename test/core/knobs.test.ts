import { describe, expect, test } from "bun:test";
import { knobsFromEnv, pollEvery, setKnobs } from "../../src/core/knobs.ts";

const env = {
  DSTACK_TOOL_PATH: "/t/bin",
  DSTACK_DEV_ROOT: "/t/dev",
  DSTACK_CPUINFO: "/t/cpuinfo",
  DSTACK_SYSTEMD_DIR: "/t/units",
  DSTACK_POLL_MS: "20",
};

describe("test knobs from the environment", () => {
  test("honoured in test mode, not as root", () => {
    expect(knobsFromEnv({ ...env, DSTACK_TEST_MODE: "1" }, 1000)).toEqual({
      toolPath: "/t/bin",
      devRoot: "/t/dev",
      cpuinfo: "/t/cpuinfo",
      systemdDir: "/t/units",
      pollMs: 20,
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
  test("a poll interval is a positive whole number of milliseconds, else none", () => {
    for (const bad of ["0", "-5", "1.5", "soon", ""])
      expect(knobsFromEnv({ DSTACK_TEST_MODE: "1", DSTACK_POLL_MS: bad }, 1000)).toEqual({});
  });
});

describe("pollEvery", () => {
  test("a wait's own interval, unless the knob is set", () => {
    expect(pollEvery(500)).toBe(500);
    setKnobs({ pollMs: 20 });
    try {
      expect(pollEvery(500)).toBe(20);
    } finally {
      setKnobs({});
    }
    expect(pollEvery(500)).toBe(500);
  });
});
