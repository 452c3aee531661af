import { describe, expect, test } from "bun:test";
import { devScript, INACTIVITY_LINE, pollSeconds } from "../../../../src/core/dev-env/cvm/dev-script.ts";

const SHELLS = [["dash"], ["bash"], ["busybox", "sh"]].filter(([b]) => Bun.which(b!, { PATH: "/usr/bin:/bin" }));

describe("the dev script", () => {
  test("every shell reads it (sh -n), with and without init and inactivity_duration", () => {
    for (const s of [
      devScript({ init: [], shell: "/bin/sh" }),
      devScript({ init: ["echo 'a'", "sleep 1 &"], shell: "/bin/bash", inactivity: 90 }),
    ]) {
      for (const sh of SHELLS) {
        const r = Bun.spawnSync([...sh, "-n", "-c", s]);
        expect(r.stderr.toString()).toBe("");
        expect(r.exitCode).toBe(0);
      }
    }
  });

  test("sshd: port 10022, public keys only, the derived host key only, the one user", () => {
    const s = devScript({ init: [], shell: "/bin/sh" });
    for (const l of [
      "Port 10022",
      "HostKey $d/host_key",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "AllowUsers $u",
      "PermitUserEnvironment yes",
    ]) {
      expect(s).toContain(`\n${l}\n`);
    }
    expect(s.match(/^HostKey /gm)).toHaveLength(1);
    expect(s).toContain('"$sshd" -D -e -f "$d/sshd_config" & spid=$!\n');
    expect(s).toContain("unset DSTACK_SSH_AUTHORIZED_KEYS\n");
  });

  test("without inactivity_duration it waits for sshd; with it, it watches for sessions and ends with 0", () => {
    const off = devScript({ init: [], shell: "/bin/sh" });
    expect(off).toContain('wait "$spid"');
    expect(off).not.toContain(INACTIVITY_LINE);
    const on = devScript({ init: [], shell: "/bin/sh", inactivity: 5 });
    expect(on).toContain(`echo "${INACTIVITY_LINE}"; dstack_stop; exit 0`);
    expect(on).toContain("-ge 5 ]; then");
    expect(on).toContain("sleep 1 & cpid=$!");
  });

  test("init runs once, in the given shell, joined as dstackai joins commands; no init, no line", () => {
    expect(devScript({ init: ["a", "b &"], shell: "/bin/zsh" })).toContain("dstack_run /bin/zsh -c 'a && { b & }'; rc=$?\n");
    expect(devScript({ init: [], shell: "/bin/sh" })).not.toContain("init failed");
  });

  test("the watch looks a fifth of the limit apart, 1 to 10 seconds", () => {
    expect([1, 5, 9, 10, 30, 50, 3600].map(pollSeconds)).toEqual([1, 1, 1, 2, 6, 10, 10]);
  });
});
