/**
 * The POSIX sh script (dash, bash, busybox sh) a dev environment's container runs, as the
 * command line of the run's start script (which unpacks files and repos, enforces max_duration
 * and prints the exit line). In order:
 *
 * 1. sshd, ssh-keygen and curl: when the image lacks one and runs as root, openssh-server and
 *    curl are installed with apt-get, apk, dnf, microdnf or yum (this needs the package mirror);
 * 2. the host key, derived from the guest agent for the sealed public keys and announced with a
 *    quote over both (host-key-script.ts);
 * 3. the sealed public keys (AUTHORIZED_KEYS_ENV) become the user's ~/.ssh/authorized_keys,
 *    replacing any the image had, and leave the environment;
 * 4. the container's environment (the run's `env`, the image's ENV, DSTACK_*) is written to
 *    ~/.ssh/environment for every SSH session, and a login shell starts in the working dir;
 * 5. sshd on DEV_SSH_PORT: public keys only, that user only, the derived host key only;
 * 6. `init`, once per start (a failure ends the run with its code);
 * 7. then it waits: for sshd, or with `inactivity_duration` until no SSH session has been open
 *    that long, when it prints INACTIVITY_LINE and ends with 0.
 *
 * A stop (TERM) ends sshd, init and the wait at once, with 143.
 */
import { joinCommands } from "../../dstack-yml/command-line.ts";
import { shlexQuote } from "../../dstack-yml/forms/shlex.ts";
import { AUTHORIZED_KEYS_ENV, DEV_SSH_PORT } from "../host-key-line.ts";
import { hostKeyFunctions } from "./host-key-script.ts";

/** Printed before the exit line when inactivity_duration ends the run (run-status.ts reads it). */
export const INACTIVITY_LINE = "[dstack] inactivity_duration exceeded";
/** The container dir of sshd's own files (host key, config, pid, the login profile). */
export const SSHD_DIR = "/tmp/dstack-sshd";
/**
 * SSH connections a process title shows (ERE): a session's `sshd: USER@pts/0` or `sshd: USER@notty`,
 * and a connection with none, only forwarding ports (`ssh -N`, what `dstack attach` holds), as
 * `sshd: USER`; OpenSSH ≥ 9.8's `sshd-session: …` likewise. Not the listener, nor `USER [priv]`,
 * `USER [preauth]` or `[accepted]`.
 */
export const SESSION_TITLE = "^sshd(-session)?: [^[ ][^ ]*$";

export interface DevScriptInput {
  init: string[];
  /** the shell `init` runs in */
  shell: string;
  /** seconds; undefined = never stop for inactivity */
  inactivity?: number;
}

/** How often the inactivity watch looks for sessions: a fifth of the limit, 1 to 10 seconds. */
export function pollSeconds(inactivity: number): number {
  return Math.min(10, Math.max(1, Math.floor(inactivity / 5)));
}

const PACKAGES = [
  "if command -v apt-get >/dev/null 2>&1; then dstack_run sh -c 'export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq --no-install-recommends openssh-server curl'",
  "elif command -v apk >/dev/null 2>&1; then dstack_run apk add --no-cache -q openssh-server openssh-keygen curl",
  "elif command -v dnf >/dev/null 2>&1; then dstack_run dnf install -y -q openssh-server curl",
  "elif command -v microdnf >/dev/null 2>&1; then dstack_run microdnf install -y openssh-server curl",
  "elif command -v yum >/dev/null 2>&1; then dstack_run yum install -y -q openssh-server curl",
  'else dstack_fail "the image has no$need and no apt-get, apk, dnf or yum to install openssh-server and curl with: use an image that has them"',
  'fi >"$d/install.log" 2>&1 || { cat "$d/install.log" >&2; dstack_fail "installing openssh-server and curl failed (the CVM needs to reach the image\'s package mirror; or use an image that has them)"; }',
];

/** Sourced by the user's ~/.profile. */
const PROFILE = [
  'if [ -r "$HOME/.ssh/environment" ]; then while IFS= read -r l; do export "$l"; done < "$HOME/.ssh/environment"; unset l; fi',
  'cd "${DSTACK_WORKING_DIR:-$HOME}" 2>/dev/null || true',
];

const SSHD_CONFIG = [
  `Port ${DEV_SSH_PORT}`,
  "HostKey $d/host_key",
  "PidFile $d/sshd.pid",
  "AuthorizedKeysFile .ssh/authorized_keys",
  "PubkeyAuthentication yes",
  "PasswordAuthentication no",
  "KbdInteractiveAuthentication no",
  "PermitRootLogin prohibit-password",
  "AllowUsers $u",
  "UsePAM no",
  "StrictModes no",
  "PermitUserEnvironment yes",
  "AllowTcpForwarding yes",
  "X11Forwarding no",
  "PrintMotd no",
  "PrintLastLog no",
  // a client gone without a word is noticed within 3 minutes, as dstackai does
  "ClientAliveInterval 30",
  "ClientAliveCountMax 6",
  "Subsystem sftp internal-sftp",
];

function waitLines(inactivity: number | undefined): string[] {
  if (inactivity === undefined) {
    return ['wait "$spid"; rc=$?; spid=""', 'echo "[dstack] dev-environment: sshd exited ($rc)" >&2', 'exit "$rc"'];
  }
  return [
    "last=$(date +%s)",
    'while kill -0 "$spid" 2>/dev/null; do',
    `  sleep ${pollSeconds(inactivity)} & cpid=$!; wait "$cpid"; cpid=""`,
    `  if [ "$(cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\000' '\\n' | grep -c -E '${SESSION_TITLE}')" -gt 0 ]; then last=$(date +%s)`,
    `  elif [ $(($(date +%s) - last)) -ge ${inactivity} ]; then`,
    `    echo "[dstack] no SSH session for ${inactivity}s"; echo "${INACTIVITY_LINE}"; dstack_stop; exit 0`,
    "  fi",
    "done",
    'echo "[dstack] dev-environment: sshd exited" >&2',
    "exit 1",
  ];
}

export function devScript(i: DevScriptInput): string {
  const lines = [
    hostKeyFunctions().trimEnd(),
    `d=${SSHD_DIR}; spid=""; cpid=""`,
    'dstack_fail() { echo "[dstack] dev-environment: $*" >&2; dstack_stop; exit 1; }',
    'dstack_stop() { for p in $cpid $spid; do kill -TERM "$p" 2>/dev/null; done; }',
    // a child in the background and `wait`: a stop interrupts the wait and the trap ends both
    'dstack_run() { "$@" & cpid=$!; wait "$cpid"; r=$?; cpid=""; return "$r"; }',
    "trap 'dstack_stop; exit 143' TERM INT",
    'mkdir -p "$d" && chmod 700 "$d" || dstack_fail "cannot make $d"',
    'dstack_sshd() { command -v sshd 2>/dev/null && return 0; for p in /usr/sbin/sshd /usr/bin/sshd /sbin/sshd /usr/local/sbin/sshd; do [ -x "$p" ] && echo "$p" && return 0; done; return 1; }',
    'need=""',
    'dstack_sshd >/dev/null || need="$need sshd"',
    'for t in ssh-keygen curl; do command -v "$t" >/dev/null 2>&1 || need="$need $t"; done',
    'if [ -n "$need" ]; then',
    '  [ "$(id -u)" = 0 ] || dstack_fail "the image has no$need and the container runs as $(id -un 2>/dev/null || id -u), not root, so they cannot be installed: use an image with openssh-server and curl"',
    '  echo "[dstack] dev-environment: the image has no$need; installing openssh-server and curl"',
    ...PACKAGES.map((l) => `  ${l}`),
    "fi",
    'sshd=$(dstack_sshd) || dstack_fail "no sshd after installing openssh-server"',
    'for t in sed tr grep base64 sha256sum sha512sum id; do command -v "$t" >/dev/null 2>&1 || dstack_fail "the image has no $t"; done',
    `[ -n "\${${AUTHORIZED_KEYS_ENV}:-}" ] || dstack_fail "no public keys were sealed into the run (${AUTHORIZED_KEYS_ENV})"`,
    'dstack_host_key "$d/host_key" || dstack_fail "no host key"',
    'u=$(id -un) || dstack_fail "the container\'s uid $(id -u) has no name in /etc/passwd (sshd logs users in by name)"',
    `h=$(sed -n "s/^$u:[^:]*:[^:]*:[^:]*:[^:]*:\\([^:]*\\):.*/\\1/p" /etc/passwd); h=\${h:-$HOME}`,
    'mkdir -p "$h/.ssh" && chmod 700 "$h/.ssh" || dstack_fail "cannot make $h/.ssh"',
    `(umask 077; printf '%s\\n' "$${AUTHORIZED_KEYS_ENV}" > "$h/.ssh/authorized_keys")`,
    `unset ${AUTHORIZED_KEYS_ENV}`,
    // what every session sees: the container's environment, one NAME=value a line (values with a newline cannot be written)
    '[ -n "${DSTACK_WORKING_DIR:-}" ] || DSTACK_WORKING_DIR=$(pwd)',
    "(umask 077; { printf 'DSTACK_WORKING_DIR=%s\\n' \"$DSTACK_WORKING_DIR\"; for n in $(tr '\\000' '\\n' < /proc/$$/environ | sed -n 's/^\\([A-Za-z_][A-Za-z0-9_]*\\)=.*/\\1/p'); do",
    `  case $n in HOME|HOSTNAME|PWD|OLDPWD|SHLVL|_|TERM|USER|LOGNAME|SHELL|MAIL|DSTACK_WORKING_DIR|${AUTHORIZED_KEYS_ENV}|DSTACK_DOCKER_*) continue ;; esac`,
    '  eval "s=\\${$n+set} v=\\${$n-}"',
    '  [ "$s" = set ] || continue',
    '  case $v in *"',
    '"*) continue ;; esac',
    `  printf '%s=%s\\n' "$n" "$v"`,
    'done; } > "$h/.ssh/environment") || dstack_fail "cannot write $h/.ssh/environment"',
    // login shells: /etc/profile may reset PATH; take the environment again and start in the working dir
    `cat > "$d/profile" <<'EOF'\n${PROFILE.join("\n")}\nEOF`,
    `grep -qsF "$d/profile" "$h/.profile" || echo ". $d/profile  # dstack dev environment" >> "$h/.profile"`,
    `cat > "$d/sshd_config" <<EOF\n${SSHD_CONFIG.join("\n")}\nEOF`,
    'if [ "$(id -u)" = 0 ]; then mkdir -p /run/sshd && chmod 755 /run/sshd; fi',
    '"$sshd" -t -f "$d/sshd_config" || dstack_fail "sshd refused its configuration"',
    '"$sshd" -D -e -f "$d/sshd_config" & spid=$!',
  ];
  if (i.init.length) {
    lines.push(
      `dstack_run ${shlexQuote(i.shell)} -c ${shlexQuote(joinCommands(i.init))}; rc=$?`,
      'if [ "$rc" != 0 ]; then echo "[dstack] init failed ($rc)" >&2; dstack_stop; exit "$rc"; fi',
    );
  }
  lines.push('echo "To connect via SSH, use: \\`ssh $DSTACK_RUN_NAME\\`"', ...waitLines(i.inactivity));
  return `${lines.join("\n")}\n`;
}
