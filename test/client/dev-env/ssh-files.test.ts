import { describe, expect, test } from "bun:test";
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dropAliasNote, sshFiles, writeAlias } from "../../../src/client/dev-env/ssh-files.ts";

const spec = (alias: string) => ({ alias, hostName: "127.0.0.1", port: 20022, user: "root", identityFile: "/k" });

describe("the SSH files attach keeps", () => {
  test("a symlinked ~/.ssh/config is written through its link, the user's text kept below the Include", async () => {
    const home = mkdtempSync(join(tmpdir(), "ssh-files-"));
    const env = { HOME: home };
    mkdirSync(join(home, ".ssh"));
    mkdirSync(join(home, "dotfiles"));
    writeFileSync(join(home, "dotfiles", "ssh_config"), "Host box\n  User me\n");
    symlinkSync(join(home, "dotfiles", "ssh_config"), join(home, ".ssh", "config"));
    expect((await writeAlias(env, spec("dev"), "ssh-ed25519 AAAA")).kind).toBe("added");
    expect(lstatSync(join(home, ".ssh", "config")).isSymbolicLink()).toBe(true);
    const text = readFileSync(join(home, "dotfiles", "ssh_config"), "utf8");
    expect(text).toStartWith("# Added by dstack attach");
    expect(text).toEndWith("\nHost box\n  User me\n");
    expect((await writeAlias(env, spec("other"), "ssh-ed25519 BBBB")).kind).toBe("present");
    expect(statSync(sshFiles(env).config).mode & 0o777).toBe(0o600);
  });

  test("dropping an alias removes its block and its key only, and says so once", async () => {
    const home = mkdtempSync(join(tmpdir(), "ssh-files-"));
    const env = { HOME: home };
    await writeAlias(env, spec("dev"), "ssh-ed25519 AAAA");
    await writeAlias(env, spec("other"), "ssh-ed25519 BBBB");
    expect(await dropAliasNote(env, "dev")).toBe("; its SSH alias dev removed");
    expect(await dropAliasNote(env, "dev")).toBe("");
    expect(readFileSync(sshFiles(env).knownHosts, "utf8")).toBe("other ssh-ed25519 BBBB\n");
    expect(readFileSync(sshFiles(env).config, "utf8")).toStartWith("Host other\n");
  });

  test("an unwritable ~/.ssh/config: the alias is still written, the Include reported as failed", async () => {
    const home = mkdtempSync(join(tmpdir(), "ssh-files-"));
    writeFileSync(join(home, ".ssh"), "a file where the directory should be");
    const r = await writeAlias({ HOME: home }, spec("dev"), "ssh-ed25519 AAAA");
    expect(r.kind).toBe("failed");
    expect(readFileSync(sshFiles({ HOME: home }).config, "utf8")).toContain("Host dev\n");
  });
});
