/**
 * What a `type: dev-environment` adds to a run plan (pure): the dev script as the command line,
 * the sshd port (DEV_SSH_PORT, to a free host port) before the configuration's `ports`, the
 * user's public keys sealed as AUTHORIZED_KEYS_ENV, and the guest agent's socket, which the
 * host key is derived and attested through.
 */
import type { DevEnvironmentConfiguration } from "../dstack-yml/dev-environment.ts";
import type { EnvVar } from "../env/envcrypt.ts";
import { UsageError } from "../errors.ts";
import { devScript } from "./cvm/dev-script.ts";
import { AGENT_SOCKET } from "./cvm/host-key-script.ts";
import { AUTHORIZED_KEYS_ENV, DEV_SSH_PORT } from "./host-key-line.ts";

export interface DevRun {
  argv: string[];
  ports: { localPort: number | null; vmPort: number }[];
  sealed: EnvVar;
  /** guest path → container path */
  binds: string[];
}

/** An OpenSSH public key line, optionally after authorized_keys options: `[options] type base64 [comment]`. */
const KEY_LINE = /^(?:\S+ +)?(?:ssh-(?:ed25519|rsa|dss)|ecdsa-sha2-nistp(?:256|384|521)|sk-[a-z0-9@.-]+) +[A-Za-z0-9+/]+={0,2}(?: .*)?$/;

/** The keys as the CVM gets them: one per line, blank and `#` lines dropped; a line that is not a public key is refused. */
export function authorizedKeysText(text: string | undefined): string {
  const lines = (text ?? "")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  if (!lines.length) throw new UsageError("a dev environment needs the public keys allowed to log in to it: none were given");
  for (const [n, l] of lines.entries()) {
    if (/PRIVATE KEY/.test(l) || !KEY_LINE.test(l)) {
      throw new UsageError(
        `the public keys for the dev environment: line ${n + 1} is not an OpenSSH public key (want: TYPE BASE64 [COMMENT])`,
      );
    }
  }
  return lines.join("\n");
}

/** `init` already interpolated; `shell` as the run's command line would use it. */
export function devRun(c: DevEnvironmentConfiguration, o: { init: string[]; shell: string; authorizedKeys: string | undefined }): DevRun {
  const clash = c.ports.find((p) => p.containerPort === DEV_SSH_PORT);
  if (clash) throw new UsageError(`ports: ${DEV_SSH_PORT} is the dev environment's sshd; give your app another port`);
  const script = devScript({
    init: o.init,
    shell: o.shell,
    ...(c.inactivityDuration !== undefined ? { inactivity: c.inactivityDuration } : {}),
  });
  return {
    argv: ["/bin/sh", "-c", script],
    ports: [{ localPort: null, vmPort: DEV_SSH_PORT }, ...c.ports.map((p) => ({ localPort: p.localPort, vmPort: p.containerPort }))],
    sealed: { key: AUTHORIZED_KEYS_ENV, value: authorizedKeysText(o.authorizedKeys) },
    binds: [`${AGENT_SOCKET}:${AGENT_SOCKET}`],
  };
}
