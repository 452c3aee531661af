import { describe, expect, test } from "bun:test";
import { chooseContext } from "../../../src/core/context/choose.ts";
import { checkContextName, checkHostUrl, parseContextStore, serializeContextStore } from "../../../src/core/context/contexts.ts";
import { DstackError, UsageError } from "../../../src/core/errors.ts";

describe("context names and hosts", () => {
  test("docker's name rule; default is taken", () => {
    for (const ok of ["prod", "a", "box-1.eu+x_y", "9"]) expect(() => checkContextName(ok)).not.toThrow();
    for (const bad of ["", "-x", ".x", "a/b", "a b", "x".repeat(101)]) expect(() => checkContextName(bad)).toThrow(UsageError);
    expect(() => checkContextName("default")).toThrow(/this machine's install/);
  });

  test("a host as --host takes it", () => {
    for (const ok of ["ssh://root@box", "ssh://box:2222?prefix=/opt/d", "unix:/run/vmm.sock", "/run/vmm.sock", "http://127.0.0.1:9080"])
      expect(checkHostUrl(` ${ok} `)).toBe(ok);
    for (const bad of ["box", "ftp://x", "http://", "unix:", "ssh://box?prefix=rel", "ssh://box?target=nope"])
      expect(() => checkHostUrl(bad)).toThrow(UsageError);
  });
});

describe("the store", () => {
  test("round trip, sorted; default as current reads as none", () => {
    const s = parseContextStore('{"current":"b","contexts":{"b":{"host":"ssh://b"},"a":{"host":"ssh://a","description":"A"}}}', "f");
    expect(s.current).toBe("b");
    expect(s.contexts.b).toEqual({ host: "ssh://b", description: "" });
    expect(serializeContextStore(s)).toBe(
      `${JSON.stringify({ current: "b", contexts: { a: { host: "ssh://a", description: "A" }, b: { host: "ssh://b", description: "" } } }, null, 2)}\n`,
    );
    expect(parseContextStore('{"current":"default","contexts":{}}', "f").current).toBeUndefined();
    const pinned = parseContextStore('{"contexts":{"p":{"host":"ssh://p","kmsSigner":"0x02ab"}}}', "f");
    expect(pinned.contexts.p).toEqual({ host: "ssh://p", description: "", kmsSigner: "0x02ab" });
    expect(JSON.parse(serializeContextStore(pinned)).contexts.p.kmsSigner).toBe("0x02ab");
  });

  test("damage is named with the file", () => {
    for (const bad of [
      "nope",
      "[]",
      '{"current":1}',
      '{"contexts":[]}',
      '{"contexts":{"x":{}}}',
      '{"contexts":{"x":{"host":"h","kmsSigner":1}}}',
    ])
      expect(() => parseContextStore(bad, "/c/contexts.json")).toThrow(DstackError);
    expect(() => parseContextStore('{"contexts":{"x":{}}}', "/c/contexts.json")).toThrow('/c/contexts.json: context "x" has no host');
  });
});

describe("which context a command uses (docker's precedence)", () => {
  const cur = () => "stored";
  test("--context; --host / DSTACK_HOST / DSTACK_VMM_URL mean none; DSTACK_CONTEXT; the current one; default is none", () => {
    expect(chooseContext({ context: "a" }, { DSTACK_HOST: "x", DSTACK_CONTEXT: "b" }, cur)).toEqual({ name: "a", from: "--context" });
    expect(chooseContext({ host: "ssh://h" }, { DSTACK_CONTEXT: "b" }, cur)).toBeUndefined();
    expect(chooseContext({}, { DSTACK_HOST: "ssh://h", DSTACK_CONTEXT: "b" }, cur)).toBeUndefined();
    expect(chooseContext({}, { DSTACK_VMM_URL: "http://h:1" }, cur)).toBeUndefined();
    expect(chooseContext({}, { DSTACK_HOST: "", DSTACK_CONTEXT: "b" }, cur)).toEqual({ name: "b", from: "DSTACK_CONTEXT" });
    expect(chooseContext({}, {}, cur)?.name).toBe("stored");
    expect(chooseContext({}, {}, () => undefined)).toBeUndefined();
    expect(chooseContext({ context: "default" }, {}, cur)).toBeUndefined();
    expect(chooseContext({}, { DSTACK_CONTEXT: "default" }, cur)).toBeUndefined();
  });

  test("--host with --context is a usage error", () => {
    expect(() => chooseContext({ host: "ssh://h", context: "a" }, {}, cur)).toThrow(UsageError);
  });
});
