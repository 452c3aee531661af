import { describe, expect, test } from "bun:test";
import { IDE_TITLES, ideLink } from "../../../src/core/dev-env/ide-link.ts";

describe("IDE links", () => {
  test("dstackai's forms: the alias, then the absolute working dir", () => {
    expect(ideLink("vscode", "fast-moth-1", "/dstack/run")).toBe("vscode://vscode-remote/ssh-remote+fast-moth-1/dstack/run");
    expect(ideLink("cursor", "dev", "/workflow")).toBe("cursor://vscode-remote/ssh-remote+dev/workflow");
    expect(ideLink("windsurf", "dev", "/root")).toBe("windsurf://vscode-remote/ssh-remote+dev/root");
    expect(ideLink("zed", "dev", "/dstack/run")).toBe("zed://ssh/dev/dstack/run");
  });

  test("a relative working dir is made absolute", () => {
    expect(ideLink("vscode", "dev", "src")).toBe("vscode://vscode-remote/ssh-remote+dev/src");
  });

  test("every IDE has a title", () => {
    expect(Object.keys(IDE_TITLES).sort()).toEqual(["cursor", "vscode", "windsurf", "zed"]);
  });
});
