/**
 * The POSIX sh script a run's container starts with: it clones the pinned repo,
 * unpacks the measured `files` (read from the compose file itself, which the
 * CVM keeps at /dstack/docker-compose.yaml), runs the command line (dstackai's
 * `shell -i -c "c1 && c2"`) as a child so a stop reaches it, enforces
 * `max_duration`, and ends with the exit line the client reads from the CVM's
 * serial console: `[dstack] exited (N)`, after `[dstack] stopped` when a stop
 * ended the command (dstackai's `stopped`, not `exited (143)`). Its arguments: the max duration in
 * seconds (or ""), then the command line.
 */

/** Where the compose file is mounted in the container. */
export const COMPOSE_IN_CONTAINER = "/dstack/.run/compose.yaml";
/** The compose file on the CVM (the guest's working copy of docker_compose_file). */
export const COMPOSE_ON_CVM = "/dstack/docker-compose.yaml";
export const FILES_KEY = "x-dstack-files";
export const EXIT_LINE = /\[dstack\] exited \((\d+)\)\s*$/;
export const MAX_DURATION_LINE = "[dstack] max_duration exceeded";
/** Printed before the exit line when a stop (SIGTERM/SIGINT to the script: a guest shutdown) ended the command. */
export const STOPPED_LINE = "[dstack] stopped";

export interface StartRepo {
  url: string;
  hash: string;
  /** target dir; "." = the working dir */
  path: string;
  ifExists: "error" | "skip";
}

function q(s: string): string {
  return `'${s.replaceAll("'", `'"'"'`)}'`;
}

export function startScript(o: { files: boolean; repo?: StartRepo }): string {
  const lines = ['max="$1"; shift'];
  if (o.repo) {
    const r = o.repo;
    lines.push(
      `d=${q(r.path)}`,
      'if [ -n "$(ls -A "$d" 2>/dev/null)" ]; then',
      r.ifExists === "skip"
        ? '  echo "[dstack] repo: $d is not empty; skipped (if_exists: skip)"'
        : '  echo "[dstack] repo: $d is not empty (set if_exists: skip to keep it)" >&2; echo "[dstack] exited (1)"; exit 1',
      "else",
      `  git clone --quiet ${q(r.url)} "$d" && git -C "$d" checkout --quiet --detach ${q(r.hash)} || { echo "[dstack] repo: could not clone ${r.url.replaceAll('"', "")} at ${r.hash}" >&2; echo "[dstack] exited (1)"; exit 1; }`,
      "fi",
    );
  }
  if (o.files) {
    lines.push(
      "t=$(mktemp -d) &&",
      `sed -n 's/^${FILES_KEY}: "\\(.*\\)"$/\\1/p' ${COMPOSE_IN_CONTAINER} | base64 -d | tar -xzf - -C "$t" || { echo "[dstack] files: could not unpack" >&2; echo "[dstack] exited (1)"; exit 1; }`,
      'if [ -d "$t/rel" ]; then cp -a "$t/rel/." .; fi',
      'if [ -d "$t/home" ]; then mkdir -p "$HOME" && cp -a "$t/home/." "$HOME/"; fi',
      'if [ -d "$t/abs" ]; then cp -a "$t/abs/." /; fi',
      'rm -rf "$t"',
    );
  }
  lines.push(
    'pid=""; stops=0',
    `trap 'stops=$((stops+1)); [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null' TERM INT`,
    '"$@" &',
    "pid=$!",
    'if [ "$stops" -gt 0 ]; then kill -TERM "$pid" 2>/dev/null; fi',
    'w=""',
    `if [ -n "$max" ]; then (sleep "$max" </dev/null >/dev/null 2>&1; echo "${MAX_DURATION_LINE}"; kill -TERM "$pid" 2>/dev/null) & w=$!; fi`,
    // A trap interrupts `wait`; wait again for the child's own status.
    'while :; do n=$stops; wait "$pid"; rc=$?; [ "$n" = "$stops" ] && break; done',
    'if [ -n "$w" ]; then kill "$w" 2>/dev/null; fi',
    `if [ "$stops" -gt 0 ]; then echo "${STOPPED_LINE}"; fi`,
    'echo "[dstack] exited ($rc)"',
    'exit "$rc"',
  );
  return `${lines.join("\n")}\n`;
}
