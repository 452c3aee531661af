/**
 * The POSIX sh functions (dash, bash, busybox sh) that make a dev environment's SSH host key
 * inside the CVM and announce it (host-key-line.ts):
 *
 * - `dstack_agent METHOD JSON`: a call to the guest agent on /var/run/dstack.sock (curl);
 * - `dstack_ec_key HEX FILE`: 32 bytes (hex) as a P-256 private scalar in a SEC1 "EC PRIVATE KEY"
 *   PEM without the public key (OpenSSL, inside ssh-keygen and sshd, computes it);
 * - `dstack_host_key FILE`: the key from GetKey(HOST_KEY_PATH/<sha256 of AUTHORIZED_KEYS_ENV>) —
 *   the same on every boot of the app with the same keys (a CVM given other keys holds another
 *   host key, which a pinned alias refuses), never leaving the CVM — written to FILE, then the
 *   `[dstack] ssh-host-key …` line with GetQuote's answer for
 *   sha512("dstack-ssh-host-key:<type> <base64> <keys-sha256>") on stdout.
 *
 * A P-256 scalar must be below the group order; 32 uniformly random bytes are not with
 * probability ~2^-32, and then ssh-keygen refuses the key and the start fails saying so.
 */
import { AUTHORIZED_KEYS_ENV, HOST_KEY_LINE_PREFIX, HOST_KEY_PATH, HOST_KEY_REPORT_PREFIX } from "../host-key-line.ts";

/** The guest agent's socket as a container mounts it. */
export const AGENT_SOCKET = "/var/run/dstack.sock";
/** The GetKey purpose (it names the key in the signature chain only; the key depends on the path). */
export const HOST_KEY_PURPOSE = "ssh-host-key";

/** SEC1 ECPrivateKey { version 1, privateKey OCTET STRING (32), [0] prime256v1 }, around the scalar. */
const SEC1_HEAD = "30310201010420";
const SEC1_TAIL = "a00a06082a8648ce3d030107";

export function hostKeyFunctions(): string {
  return `dstack_hex_bytes() {
  h=$1
  while [ -n "$h" ]; do
    b=\${h%"\${h#??}"}; h=\${h#??}
    printf "\\\\$(printf %o "0x$b")"
  done
}
dstack_ec_key() {
  case $1 in *[!0-9a-fA-F]*) return 1 ;; esac
  [ \${#1} -eq 64 ] || return 1
  ( umask 077
    { echo "-----BEGIN EC PRIVATE KEY-----"
      { dstack_hex_bytes ${SEC1_HEAD}; dstack_hex_bytes "$1"; dstack_hex_bytes ${SEC1_TAIL}; } | base64
      echo "-----END EC PRIVATE KEY-----"; } > "$2" )
}
dstack_agent() {
  curl -sS --unix-socket ${AGENT_SOCKET} -H 'Content-Type: application/json' -d "$2" "http://dstack/$1"
}
dstack_host_key() {
  ak=$(printf '%s' "$${AUTHORIZED_KEYS_ENV}" | sha256sum); ak=\${ak%% *}
  r=$(dstack_agent GetKey "{\\"path\\":\\"${HOST_KEY_PATH}/$ak\\",\\"purpose\\":\\"${HOST_KEY_PURPOSE}\\"}") || { echo "[dstack] dev-environment: the guest agent (${AGENT_SOCKET}) did not answer GetKey" >&2; return 1; }
  k=$(printf '%s' "$r" | sed -n 's/.*"key" *: *"\\([0-9a-fA-F]*\\)".*/\\1/p')
  dstack_ec_key "$k" "$1" || { echo "[dstack] dev-environment: GetKey answered no 32-byte key: $r" >&2; return 1; }
  pub=$(ssh-keygen -y -f "$1") || { echo "[dstack] dev-environment: ssh-keygen refused the derived host key" >&2; return 1; }
  set -- $pub
  rd=$(printf '%s' "${HOST_KEY_REPORT_PREFIX}$1 $2 $ak" | sha512sum)
  r=$(dstack_agent GetQuote "{\\"report_data\\":\\"\${rd%% *}\\"}") || { echo "[dstack] dev-environment: the guest agent did not answer GetQuote" >&2; return 1; }
  case $r in *'"quote"'*) ;; *) echo "[dstack] dev-environment: GetQuote failed: $r" >&2; return 1 ;; esac
  printf '${HOST_KEY_LINE_PREFIX}%s %s %s %s\\n' "$1" "$2" "$ak" "$(printf '%s' "$r" | base64 | tr -d '\\n')"
}
`;
}
