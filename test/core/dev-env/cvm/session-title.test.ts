/**
 * What the inactivity watch counts as an SSH session (dev-script.ts SESSION_TITLE), against a
 * real OpenSSH server's process titles: a connection that only forwards ports (`ssh -N`, what
 * `dstack attach` holds) counts, and so does one running a command; the listener and nothing
 * else do not.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { SESSION_TITLE } from "../../../../src/core/dev-env/cvm/dev-script.ts";
import { type Sshd, startSshd } from "../../../helpers/sshd.ts";

let sshd: Sshd;
beforeAll(async () => {
  sshd = await startSshd();
});
afterAll(() => sshd.stop());

/** The process titles of the server and its children (`cat /proc/N/cmdline`, NULs as newlines, as the watch reads them). */
function titles(): string[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      parent.set(Number(d), Number(/^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${d}/status`, "utf8"))?.[1]));
    } catch {
      /* gone */
    }
  }
  const ours = (p: number): boolean => p === sshd.pid || (p > 1 && ours(parent.get(p) ?? 0));
  return [...parent.keys()].filter(ours).flatMap((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0");
    } catch {
      return [];
    }
  });
}

const sessions = () => titles().filter((t) => new RegExp(SESSION_TITLE).test(t)).length;

async function counted(args: string[]): Promise<number> {
  const id = join(sshd.home, ".ssh", "id_ed25519");
  const known = join(sshd.home, ".ssh", "known_hosts");
  const p = Bun.spawn(
    ["ssh", "-F", "/dev/null", "-i", id, "-o", `UserKnownHostsFile=${known}`, "-o", "BatchMode=yes", "-p", String(sshd.port), ...args],
    { stdin: "ignore", stdout: "ignore", stderr: "ignore" },
  );
  try {
    let n = 0;
    for (let i = 0; i < 300 && n === 0; i++) {
      await Bun.sleep(50);
      n = sessions();
    }
    return n;
  } finally {
    p.kill();
    await p.exited;
  }
}

describe("the inactivity watch's idea of an SSH session", () => {
  test("the listener alone is none", () => {
    expect(titles().length).toBeGreaterThan(0);
    expect(sessions()).toBe(0);
  });

  test("a connection that only forwards ports (ssh -N, as dstack attach holds) is one", async () => {
    expect(await counted(["-N", `${sshd.user}@127.0.0.1`])).toBe(1);
  }, 30_000);

  test("a connection running a command is one", async () => {
    expect(await counted([`${sshd.user}@127.0.0.1`, "sleep", "30"])).toBe(1);
  }, 30_000);
});
