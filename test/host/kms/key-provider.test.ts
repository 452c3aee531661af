/**
 * Our own key provider: `docker compose -p PROJECT -f SRC/docker-compose.yaml up -d`
 * with KEY_PROVIDER_PORT, then the port must answer; `down` stops it. Docker
 * is a stand-in here (no Docker engine on this machine): a script that starts
 * (and stops) a TCP listener on the port, and records how it was called.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setKnobs } from "../../../src/core/knobs.ts";
import type { Progress } from "../../../src/core/progress.ts";
import { startKeyProvider, stopKeyProvider, tcpAnswers } from "../../../src/host/kms/key-provider.ts";
import { SANITISED_PATH } from "../../../src/host/runner.ts";

const dir = mkdtempSync(join(tmpdir(), "kp-"));
const bin = join(dir, "bin");
const calls = join(dir, "calls.log");
const pidFile = join(dir, "listener.pid");
mkdirSync(bin);
writeFileSync(join(dir, "listener.js"), "require('net').createServer((s) => s.end()).listen(Number(process.argv[2]), '127.0.0.1');\n");
writeFileSync(
  join(bin, "docker"),
  `#!/bin/sh
echo "$* KEY_PROVIDER_PORT=$KEY_PROVIDER_PORT" >> ${calls}
case "$*" in
  *dstack-kp-fail*" up -d") echo "no such image: dstack-key-provider" >&2; exit 1 ;;
  *" up -d") nohup ${process.execPath} ${join(dir, "listener.js")} "$KEY_PROVIDER_PORT" >/dev/null 2>&1 &
             echo $! > ${pidFile} ;;
  *" down") kill "$(cat ${pidFile})" && rm -f ${pidFile} ;;
esac
`,
);
chmodSync(join(bin, "docker"), 0o755);
mkdirSync(join(dir, "src"));
writeFileSync(join(dir, "src/docker-compose.yaml"), "services: {}\n");

const lines: string[] = [];
const p: Progress = { ok: (m) => lines.push(`ok ${m}`), warn: (m) => lines.push(`warn ${m}`), step: (m) => lines.push(`.. ${m}`) };
const port = 31000 + Math.floor(Math.random() * 2000);

afterAll(() => {
  if (existsSync(pidFile)) process.kill(Number(readFileSync(pidFile, "utf8")));
  rmSync(dir, { recursive: true, force: true });
  setKnobs({});
});

describe("our own key provider (docker compose, stand-in docker)", () => {
  test("up -d with the project, the compose file and the port; install waits until it answers; down stops it", async () => {
    setKnobs({ toolPath: `${bin}:${SANITISED_PATH}` });
    const kp = { kind: "own" as const, address: "127.0.0.1", port, src: join(dir, "src"), project: `dstack-kp-${port}` };
    await startKeyProvider(kp, p);
    expect(readFileSync(calls, "utf8")).toContain(
      `compose -p dstack-kp-${port} -f ${join(dir, "src/docker-compose.yaml")} up -d KEY_PROVIDER_PORT=${port}`,
    );
    expect(lines.at(-1)).toBe(`ok key provider answers at 127.0.0.1:${port} (docker compose project dstack-kp-${port})`);
    expect(await tcpAnswers("127.0.0.1", port)).toBe(true);
    expect(await stopKeyProvider(kp.project)).toBe(true);
    expect(readFileSync(calls, "utf8")).toContain(`compose -p dstack-kp-${port} down`);
    await Bun.sleep(200);
    expect(await tcpAnswers("127.0.0.1", port)).toBe(false);
  }, 30_000);

  test("a failing `docker compose up` is an error naming the logs command", async () => {
    setKnobs({ toolPath: `${bin}:${SANITISED_PATH}` });
    const kp = { kind: "own" as const, address: "127.0.0.1", port, src: join(dir, "src"), project: "dstack-kp-fail" };
    const e = (await startKeyProvider(kp, p).catch((x: unknown) => x)) as { message: string; hint: string };
    expect(e.message).toBe("failed to start our own key provider (docker compose up): no such image: dstack-key-provider");
    expect(e.hint).toBe("docker compose -p dstack-kp-fail logs");
  });
});
