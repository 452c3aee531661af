import { describe, expect, test } from "bun:test";
import { userConfigDir } from "../../src/core/layout.ts";

describe("userConfigDir", () => {
  test("$XDG_CONFIG_HOME/dstack-tee, else ~/.config/dstack-tee; never ~/.dstack", () => {
    expect(userConfigDir({ XDG_CONFIG_HOME: "/x/cfg", HOME: "/home/a" })).toBe("/x/cfg/dstack-tee");
    expect(userConfigDir({ XDG_CONFIG_HOME: "", HOME: "/home/a" })).toBe("/home/a/.config/dstack-tee");
    expect(userConfigDir({ HOME: "/home/a" })).toBe("/home/a/.config/dstack-tee");
  });
});
