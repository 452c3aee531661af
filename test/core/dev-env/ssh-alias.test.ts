import { describe, expect, test } from "bun:test";
import { aliasBlock, hasAlias, withAliasBlock, withPinnedKey } from "../../../src/core/dev-env/ssh-alias.ts";

const spec = {
  alias: "dev",
  hostName: "127.0.0.1",
  port: 20022,
  user: "root",
  identityFile: "/home/u/.config/dstack-tee/ssh/id_ed25519",
  knownHostsFile: "/home/u/.config/dstack-tee/ssh/known_hosts",
};

describe("the dev environment's SSH alias", () => {
  test("the block pins the attested key strictly, with our identity only", () => {
    expect(aliasBlock(spec)).toBe(
      [
        "Host dev",
        "    HostName 127.0.0.1",
        "    Port 20022",
        "    User root",
        "    IdentityFile /home/u/.config/dstack-tee/ssh/id_ed25519",
        "    IdentitiesOnly yes",
        "    HostKeyAlias dev",
        "    UserKnownHostsFile /home/u/.config/dstack-tee/ssh/known_hosts",
        "    GlobalKnownHostsFile /dev/null",
        "    StrictHostKeyChecking yes",
        "    UpdateHostKeys no",
        "",
      ].join("\n"),
    );
    expect(aliasBlock(spec)).not.toContain("StrictHostKeyChecking no");
  });

  test("a remote VMM adds its ssh:// host as the jump host; paths with spaces are quoted", () => {
    const b = aliasBlock({ ...spec, proxyJump: "ops@vmm.example:2222", identityFile: "/home/a b/id" });
    expect(b).toContain("    ProxyJump ops@vmm.example:2222\n");
    expect(b).toContain('    IdentityFile "/home/a b/id"\n');
  });

  test("no value can add an option: a host name, port, alias or jump host that is not one token is refused", () => {
    const evil = "127.0.0.1\n    ProxyCommand touch /tmp/pwned";
    expect(() => aliasBlock({ ...spec, hostName: evil })).toThrow(/SSH config/);
    expect(() => aliasBlock({ ...spec, hostName: "127.0.0.1 x" })).toThrow(/SSH config/);
    expect(() => aliasBlock({ ...spec, hostName: "%h" })).toThrow(/SSH config/);
    expect(() => aliasBlock({ ...spec, port: "22\nProxyCommand x" as unknown as number })).toThrow(/SSH config/);
    expect(() => aliasBlock({ ...spec, port: 0 })).toThrow(/SSH config/);
    expect(() => aliasBlock({ ...spec, alias: "dev\n    ProxyCommand x" })).toThrow(/SSH config/);
    expect(() => aliasBlock({ ...spec, proxyJump: "ops@vmm\n    LocalCommand x" })).toThrow(/SSH config/);
    expect(() => aliasBlock({ ...spec, user: "root\r    ProxyCommand x" })).toThrow(/SSH config/);
    expect(aliasBlock({ ...spec, hostName: "fd00::5" })).toContain("    HostName fd00::5\n");
  });

  test("set, replace and remove one run's block, keeping the others", () => {
    const one = withAliasBlock("", "dev", aliasBlock(spec));
    const two = withAliasBlock(one, "other", aliasBlock({ ...spec, alias: "other", port: 20023 }));
    expect(hasAlias(two, "dev") && hasAlias(two, "other")).toBe(true);
    const moved = withAliasBlock(two, "dev", aliasBlock({ ...spec, port: 30000 }));
    expect(moved.match(/^Host dev$/gm)?.length).toBe(1);
    expect(moved).toContain("Port 30000");
    expect(moved).toContain("Port 20023");
    const gone = withAliasBlock(moved, "dev", undefined);
    expect(hasAlias(gone, "dev")).toBe(false);
    expect(gone).toBe(withAliasBlock("", "other", aliasBlock({ ...spec, alias: "other", port: 20023 })));
    expect(withAliasBlock(gone, "other", undefined)).toBe("");
  });

  test("a Host line naming dev among others is not dev's block", () => {
    expect(hasAlias("Host dev other\n  Port 1\n", "dev")).toBe(false);
    expect(hasAlias("Host dev-2\n", "dev")).toBe(false);
  });

  test("known_hosts: one pinned line per alias, replaced and removed", () => {
    const a = withPinnedKey("", "dev", "ssh-ed25519 AAAA");
    const b = withPinnedKey(a, "other", "ssh-ed25519 BBBB");
    expect(withPinnedKey(b, "dev", "ssh-ed25519 CCCC")).toBe("other ssh-ed25519 BBBB\ndev ssh-ed25519 CCCC\n");
    expect(withPinnedKey(b, "dev", undefined)).toBe("other ssh-ed25519 BBBB\n");
    expect(withPinnedKey("dev ssh-ed25519 AAAA\n", "dev", undefined)).toBe("");
  });
});
