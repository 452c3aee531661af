import { describe, expect, test } from "bun:test";
import { hostLineMatches, parseJumpHop, resolveSshConfig } from "../../src/core/ssh-config.ts";
import { parseSshHost } from "../../src/core/vmm/transport-ssh.ts";

const CONFIG = `
# global defaults come first only when written first
IdentityFile ~/.ssh/global
Host box
  HostName 10.0.0.5
  User = op
  Port 2222
  IdentityFile "~/.ssh/box key"
  ProxyJump jump@bastion:22,second
Host *.lab !secret.lab
  User labber
Match host box
  User never
Host *
  User fallback
  Port 22
`;

describe("~/.ssh/config", () => {
  test("an alias: first value wins, IdentityFile accumulates with ~ expanded, ProxyJump hops", () => {
    expect(resolveSshConfig(CONFIG, "box", "/home/u")).toEqual({
      hostName: "10.0.0.5",
      user: "op",
      port: 2222,
      identityFiles: ["/home/u/.ssh/global", "/home/u/.ssh/box key"],
      proxyJump: ["jump@bastion:22", "second"],
    });
  });
  test("patterns with * and ! negation; Match blocks skipped; Host * as the fallback", () => {
    expect(resolveSshConfig(CONFIG, "a.lab", "/h").user).toBe("labber");
    expect(resolveSshConfig(CONFIG, "secret.lab", "/h").user).toBe("fallback");
    expect(resolveSshConfig(CONFIG, "other", "/h")).toEqual({ user: "fallback", port: 22, identityFiles: ["/h/.ssh/global"] });
    expect(hostLineMatches(["b?x"], "box")).toBe(true);
    expect(hostLineMatches(["!box", "*"], "box")).toBe(false);
    expect(resolveSshConfig("Host x\n ProxyJump none\n", "x", "/h").proxyJump).toEqual([]);
  });
  test("jump hops", () => {
    expect(parseJumpHop("jump@bastion:2200")).toEqual({ user: "jump", host: "bastion", port: 2200 });
    expect(parseJumpHop("[::1]:22")).toEqual({ host: "::1", port: 22 });
    expect(parseJumpHop("ssh://h")).toEqual({ host: "h" });
  });
  test("ssh://ALIAS takes the config; the URL's own user and port win; ?prefix= names the layout", () => {
    const t = parseSshHost("ssh://box?prefix=/opt/dstack-sim", {}, CONFIG, "/home/u");
    expect(t).toMatchObject({ user: "op", host: "10.0.0.5", port: 2222, remote: { kind: "dial" }, prefix: "/opt/dstack-sim" });
    expect(parseSshHost("ssh://me@box:23", {}, CONFIG, "/home/u")).toMatchObject({ user: "me", port: 23 });
    expect(() => parseSshHost("ssh://box?prefix=relative", {})).toThrow(/absolute/);
    expect(() => parseSshHost("ssh://box?prefix=/p&target=tcp:127.0.0.1:1", {})).toThrow(/prefix/);
  });
});
