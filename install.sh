#!/bin/sh
# dstack toolchain installer: one binary (dstack) plus the dstackup and
# dstack-auth links on Linux; the client `dstack` alone on macOS. POSIX sh; the
# whole body is the function `main`, called on the last line, so a truncated
# download runs nothing.
#
# Trust: SHA256SUMS is signed with the dstack release key, pinned below. Its
# signature (SHA256SUMS.sig) is checked with `ssh-keygen -Y verify` before any
# checksum in it is used; a missing or bad signature is refused. Only a host
# without ssh-keygen installs on the checksums alone, with a warning (refused
# under --require-signature).
#
#   curl -fsSL <release-url>/install.sh | sh
#   curl -fsSL <release-url>/install.sh | sh -s -- --prefix /opt/dstack
#   sh install.sh --from dstack-0.1.0-linux-x64.tar.gz      # air-gapped
#
# Flags (env var in brackets):
#   --prefix DIR      install into DIR/bin                 [DSTACK_PREFIX, default /usr/local]
#   --version V       release version, or "latest"         [DSTACK_VERSION, default latest]
#   --release-url URL releases page (see the layout below)  [DSTACK_RELEASE_URL]
#   --from FILE       install from a local tarball; checked against SHA256SUMS (and .sig) beside it
#   --force           replace a `dstack` in <prefix>/bin that is not ours
#   --trusted-key KEY trust KEY (a public key, or a .pub file) instead of the pinned
#                     release key: a mirror that re-signs, or a test      [DSTACK_TRUSTED_KEY]
#   --require-signature refuse when the signature cannot be checked     [DSTACK_REQUIRE_SIGNATURE=1]
#
# Release layout (GitHub's): <URL>/download/v<version>/<asset> for a version and
# <URL>/latest/download/<asset> for the newest release, where <URL> is the
# releases page (default https://github.com/Dstack-TEE/dstack-toolchain/releases)
# and the assets are SHA256SUMS, SHA256SUMS.sig and dstack-<version>-<os>-<arch>.tar.xz
# (.tar.gz too for Linux: used where there is no xz), for linux-x64, linux-arm64,
# darwin-arm64 and darwin-x64. SHA256SUMS also lists each binary as
# dstack-<version>-<os>-<arch>/dstack. For "latest", SHA256SUMS names the tarball,
# and so the version.

# The public half of the key that signs releases (its private half lives only in
# the release pipeline's secrets). src/core/signing-key.ts pins the same key.
release_key() {
  echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPKWBjpW1PLzbbzbTZ7mnSCc4AI6EWgB97dsOXgEVbc5 dstack-release'
}

main() {
  set -eu
  umask 022

  PREFIX="${DSTACK_PREFIX:-/usr/local}"
  VERSION="${DSTACK_VERSION:-latest}"
  RELEASE_URL="${DSTACK_RELEASE_URL:-https://github.com/Dstack-TEE/dstack-toolchain/releases}"
  FROM=""
  FORCE=0
  CREATED_BIN_DIR=0
  TRUSTED="${DSTACK_TRUSTED_KEY:-}"
  REQUIRE_SIG="${DSTACK_REQUIRE_SIGNATURE:-0}"

  while [ $# -gt 0 ]; do
    case "$1" in
      --prefix) need_arg "$@"; PREFIX="$2"; shift 2 ;;
      --prefix=*) PREFIX="${1#*=}"; shift ;;
      --version) need_arg "$@"; VERSION="$2"; shift 2 ;;
      --version=*) VERSION="${1#*=}"; shift ;;
      --release-url) need_arg "$@"; RELEASE_URL="$2"; shift 2 ;;
      --release-url=*) RELEASE_URL="${1#*=}"; shift ;;
      --from) need_arg "$@"; FROM="$2"; shift 2 ;;
      --from=*) FROM="${1#*=}"; shift ;;
      --force) FORCE=1; shift ;;
      --trusted-key) need_arg "$@"; TRUSTED="$2"; shift 2 ;;
      --trusted-key=*) TRUSTED="${1#*=}"; shift ;;
      --require-signature) REQUIRE_SIG=1; shift ;;
      -h|--help) usage; return 0 ;;
      *) fatal "unknown option: $1 (see --help)" ;;
    esac
  done

  case "$PREFIX" in /*) ;; *) fatal "--prefix must be an absolute path: $PREFIX" ;; esac
  BIN_DIR="${PREFIX%/}/bin"

  case "$REQUIRE_SIG" in 0|1) ;; *) fatal "DSTACK_REQUIRE_SIGNATURE must be 0 or 1 (got $REQUIRE_SIG)" ;; esac
  resolve_trusted_key
  detect_target
  check_foreign_dstack

  TMP_DIR=$(mktemp -d "${TMPDIR:-/tmp}/dstack-install.XXXXXX")
  trap 'rm -rf "$TMP_DIR"' EXIT
  trap 'rm -rf "$TMP_DIR"; exit 130' INT TERM

  if [ -n "$FROM" ]; then
    install_from_file
  else
    install_from_release
  fi
}

usage() {
  cat <<'USAGE'
install.sh [--prefix DIR] [--version V] [--release-url URL] [--from FILE.tar.xz|.tar.gz] [--force]
           [--trusted-key KEY] [--require-signature]
  --prefix DIR       install into DIR/bin (env DSTACK_PREFIX, default /usr/local)
  --version V        release version or latest (env DSTACK_VERSION, default latest)
  --release-url URL  releases page: fetches URL/latest/download/ASSET or URL/download/vV/ASSET (env DSTACK_RELEASE_URL)
  --from FILE        install from a local tarball (air-gapped); checked against SHA256SUMS (and its .sig) beside it
  --force            replace a `dstack` (or dstackup, dstack-auth) in DIR/bin that is not ours
  --trusted-key KEY  trust KEY ("ssh-ed25519 AAAA..." or a .pub file) instead of the pinned release key (env DSTACK_TRUSTED_KEY)
  --require-signature refuse when the signature cannot be checked, e.g. no ssh-keygen (env DSTACK_REQUIRE_SIGNATURE=1)
USAGE
}

info() { printf '[INFO]  %s\n' "$*" >&2; }
warn() { printf '[WARN]  %s\n' "$*" >&2; }
fatal() { printf '[ERROR] %s\n' "$*" >&2; exit 1; }

need_arg() {
  [ $# -ge 2 ] || fatal "$1 needs a value"
}

# OS and ARCH name the release asset; on macOS only the client is installed
# (the host tools set up a Linux TDX/SNP host). EXTS: tarball formats in order
# of preference: xz where it can be unpacked, gzip otherwise.
detect_target() {
  case "$(uname -s)" in
    Linux) OS=linux; CLIENT_ONLY=0 ;;
    Darwin) OS=darwin; CLIENT_ONLY=1 ;;
    *) fatal "no dstack build for $(uname -s): releases are for Linux (x64, arm64) and macOS (the client)" ;;
  esac
  case "$(uname -m)" in
    x86_64|amd64) ARCH=x64 ;;
    aarch64|arm64) ARCH=arm64 ;;
    *) fatal "unsupported architecture $(uname -m)" ;;
  esac
  if [ "$OS" = darwin ]; then
    EXTS="xz" # macOS's tar reads xz itself
  elif command -v xz >/dev/null 2>&1; then
    EXTS="xz gz"
  else
    EXTS="gz"
  fi
}

# TRUSTED_KEY: the key SHA256SUMS must be signed with ("TYPE BASE64"), and how to name it.
resolve_trusted_key() {
  if [ -z "$TRUSTED" ]; then
    TRUSTED_KEY=$(release_key)
    KEY_DESC="the dstack release key"
    return 0
  fi
  case "$TRUSTED" in
    ssh-*|ecdsa-*|sk-*) key_text=$TRUSTED ;;
    *)
      [ -f "$TRUSTED" ] || fatal "--trusted-key: no such file: $TRUSTED (give a public key or a .pub file)"
      key_text=$(grep -v '^[[:space:]]*#' "$TRUSTED" | grep -v '^[[:space:]]*$' | head -n 1)
      ;;
  esac
  TRUSTED_KEY=$(printf '%s\n' "$key_text" | awk 'NF >= 2 && $1 ~ /^(ssh|ecdsa|sk)-/ && $2 ~ /^[A-Za-z0-9+\/]+=*$/ { print $1 " " $2; exit }')
  [ -n "$TRUSTED_KEY" ] || fatal "--trusted-key: not an SSH public key: $TRUSTED (want a line like \"ssh-ed25519 AAAA... comment\")"
  KEY_DESC="the key given by --trusted-key ($TRUSTED_KEY)"
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d' ' -f1
  else
    fatal "need sha256sum or shasum to verify the download"
  fi
}

download() {
  # download URL FILE
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --retry 3 -o "$2" "$1" || return 1
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$2" "$1" || return 1
  else
    fatal "need curl or wget to download (or use --from FILE)"
  fi
}

# Another program named dstack (dstackai's Python CLI has the same name).
# Overwriting one is refused unless --force; one elsewhere on PATH is only a
# warning, since nothing of it is touched, saying which of the two runs.
check_foreign_dstack() {
  if [ -e "$BIN_DIR/dstack" ] && ! is_ours "$BIN_DIR/dstack"; then
    if [ "$FORCE" -ne 1 ]; then
      fatal "$BIN_DIR/dstack is a different program named dstack (not the dstack toolchain). Remove it, install ours elsewhere with --prefix DIR, or pass --force to replace it."
    fi
    warn "replacing $BIN_DIR/dstack although it is not ours (--force)"
  fi
  existing=$(command -v dstack 2>/dev/null || true)
  [ -n "$existing" ] || return 0
  [ "$existing" != "$BIN_DIR/dstack" ] || return 0
  is_ours "$existing" && return 0
  if path_before "$BIN_DIR" "$(dirname "$existing")"; then
    warn "$existing is a different program named dstack; ours in $BIN_DIR comes first on PATH and will run as \`dstack\` (call that one by its full path)"
  else
    warn "$existing is a different program named dstack and comes first on PATH: \`dstack\` will run it, not ours. Run ours as $BIN_DIR/dstack, put $BIN_DIR before $(dirname "$existing") in PATH, or remove the other one."
  fi
}

# path_before A B: does directory A come before directory B in PATH?
# Entries are compared as real paths: a trailing slash or a symlinked directory still matches.
path_before() {
  a=$(real_dir "$1")
  b=$(real_dir "$2")
  old_ifs=$IFS
  IFS=:
  for d in $PATH; do
    d=$(real_dir "$d")
    if [ "$d" = "$a" ]; then IFS=$old_ifs; return 0; fi
    if [ "$d" = "$b" ]; then IFS=$old_ifs; return 1; fi
  done
  IFS=$old_ifs
  return 1
}

# real_dir DIR: DIR with symlinks resolved, or as given (trailing slashes dropped) if it does not exist yet.
real_dir() {
  (cd "$1" 2>/dev/null && pwd -P) || printf '%s\n' "$1" | sed 's#//*$##'
}

is_ours() {
  out=$("$1" --version 2>/dev/null || true)
  case "$out" in
    "dstack "[0-9]*" ("*")") return 0 ;;
    *) return 1 ;;
  esac
}

expected_sum() {
  # expected_sum SUMS_FILE NAME
  awk -v n="$2" '$2 == n || $2 == "*" n { print $1; exit }' "$1"
}

# verify_signature SUMS SIG: refuse checksums the trusted key did not sign.
# Nothing in SUMS is read before this passes.
verify_signature() {
  if ! command -v ssh-keygen >/dev/null 2>&1 || ssh-keygen -Y 2>&1 | grep -qi 'illegal option\|unknown option'; then
    [ "$REQUIRE_SIG" -eq 0 ] || fatal "cannot check the signature of SHA256SUMS: this host has no ssh-keygen with -Y (OpenSSH 8.1 or later), and --require-signature is set. Install openssh-client and retry; nothing was installed"
    warn "cannot check the signature of SHA256SUMS: no ssh-keygen with -Y (OpenSSH 8.1 or later) on this host. Trusting its checksums unsigned; pass --require-signature to refuse instead"
    return 0
  fi
  [ -s "$2" ] || fatal "SHA256SUMS has no signature (SHA256SUMS.sig is missing or empty): refusing checksums nobody vouches for; nothing was installed"
  printf 'dstack namespaces="dstack-release" %s\n' "$TRUSTED_KEY" > "$TMP_DIR/allowed_signers"
  if ! out=$(ssh-keygen -Y verify -f "$TMP_DIR/allowed_signers" -I dstack -n dstack-release -s "$2" < "$1" 2>&1); then
    fatal "bad signature on SHA256SUMS: it was not signed by $KEY_DESC. Refusing a tampered release; nothing was installed (ssh-keygen: $out)"
  fi
  info "signature ok: SHA256SUMS is signed by $KEY_DESC"
}

# pick_tarball SUMS VERSION: the tarball for this host listed in SUMS, in EXTS order ("" if none)
pick_tarball() {
  for ext in $EXTS; do
    if [ "$2" = latest ]; then
      name=$(awk -v suf="-$OS-$ARCH.tar.$ext" '{ n = $2; sub(/^\*/, "", n) } n ~ /^dstack-/ && substr(n, length(n) - length(suf) + 1) == suf { print n; exit }' "$1")
    else
      name="dstack-${2#v}-$OS-$ARCH.tar.$ext"
      [ -n "$(expected_sum "$1" "$name")" ] || name=""
    fi
    if [ -n "$name" ]; then echo "$name"; return 0; fi
  done
}

install_from_release() {
  if [ "$VERSION" = "latest" ]; then
    base="${RELEASE_URL%/}/latest/download"
  else
    base="${RELEASE_URL%/}/download/v${VERSION#v}"
  fi
  info "fetching checksums from $base/SHA256SUMS"
  download "$base/SHA256SUMS" "$TMP_DIR/SHA256SUMS" || fatal "could not download $base/SHA256SUMS"
  download "$base/SHA256SUMS.sig" "$TMP_DIR/SHA256SUMS.sig" 2>/dev/null || rm -f "$TMP_DIR/SHA256SUMS.sig"
  verify_signature "$TMP_DIR/SHA256SUMS" "$TMP_DIR/SHA256SUMS.sig"
  tarball=$(pick_tarball "$TMP_DIR/SHA256SUMS" "$VERSION")
  [ -n "$tarball" ] || fatal "no $OS-$ARCH tarball ($(echo "$EXTS" | sed 's/ / or /')) listed in $base/SHA256SUMS"
  want=$(expected_sum "$TMP_DIR/SHA256SUMS" "$tarball")
  bin_sum=$(expected_sum "$TMP_DIR/SHA256SUMS" "${tarball%.tar.*}/dstack")
  if [ -n "$bin_sum" ] && [ -x "$BIN_DIR/dstack" ] && [ "$(sha256_of "$BIN_DIR/dstack")" = "$bin_sum" ]; then
    info "$BIN_DIR/dstack already matches the published checksum; skipping the download"
    ensure_links
    write_uninstall
    next_steps
    return 0
  fi
  info "downloading $base/$tarball"
  download "$base/$tarball" "$TMP_DIR/$tarball" || fatal "could not download $base/$tarball"
  verify "$TMP_DIR/$tarball" "$want"
  unpack_and_install "$TMP_DIR/$tarball" "$bin_sum"
}

install_from_file() {
  [ -f "$FROM" ] || fatal "--from: no such file: $FROM"
  sums="$(dirname "$FROM")/SHA256SUMS"
  name=$(basename "$FROM")
  if [ -f "$sums" ]; then
    cp "$sums" "$TMP_DIR/SHA256SUMS"
    if [ -f "$sums.sig" ]; then cp "$sums.sig" "$TMP_DIR/SHA256SUMS.sig"; fi
    verify_signature "$TMP_DIR/SHA256SUMS" "$TMP_DIR/SHA256SUMS.sig"
    want=$(expected_sum "$TMP_DIR/SHA256SUMS" "$name")
    [ -n "$want" ] || fatal "$name is not listed in $sums"
    verify "$FROM" "$want"
    bin_sum=$(expected_sum "$TMP_DIR/SHA256SUMS" "${name%.tar.*}/dstack")
  else
    [ "$REQUIRE_SIG" -eq 0 ] || fatal "no SHA256SUMS (and SHA256SUMS.sig) beside $FROM, and --require-signature is set: copy them from the release next to the tarball"
    warn "no SHA256SUMS beside $FROM: installing without a checksum or signature check"
    bin_sum=""
  fi
  unpack_and_install "$FROM" "$bin_sum"
}

verify() {
  got=$(sha256_of "$1")
  [ "$got" = "$2" ] || fatal "checksum mismatch for $(basename "$1") (expected $2, got $got): refusing a tampered or corrupt download; nothing was installed"
  info "checksum ok ($got)"
}

unpack_and_install() {
  mkdir -p "$TMP_DIR/unpack"
  case "$1" in
    *.tar.xz) command -v xz >/dev/null 2>&1 || [ "$OS" = darwin ] || fatal "$(basename "$1") is xz-compressed and this host has no xz: use the .tar.gz"
      zflag=-J ;;
    *) zflag=-z ;;
  esac
  tar "$zflag" -xf "$1" -C "$TMP_DIR/unpack" --no-same-owner dstack || fatal "$(basename "$1") does not contain the dstack binary"
  if [ -n "$2" ]; then
    [ "$(sha256_of "$TMP_DIR/unpack/dstack")" = "$2" ] || fatal "the unpacked binary does not match its published checksum; nothing was installed"
  fi
  is_ours "$TMP_DIR/unpack/dstack" || fatal "the unpacked binary does not run on this host (dstack --version failed)"
  [ -d "$BIN_DIR" ] || CREATED_BIN_DIR=1
  mkdir -p "$BIN_DIR"
  # same-directory temp file + rename: the old binary is replaced atomically
  cp "$TMP_DIR/unpack/dstack" "$BIN_DIR/.dstack.new.$$"
  chmod 0755 "$BIN_DIR/.dstack.new.$$"
  mv -f "$BIN_DIR/.dstack.new.$$" "$BIN_DIR/dstack"
  info "installed $BIN_DIR/dstack ($("$BIN_DIR/dstack" --version))"
  ensure_links
  write_uninstall
  next_steps
}

# The host tools' names, linked to the one binary (none on macOS: the client only).
host_tools() {
  [ "$CLIENT_ONLY" -eq 1 ] || echo "dstackup dstack-auth"
}

ensure_links() {
  for name in $(host_tools); do
    if [ -L "$BIN_DIR/$name" ] && [ "$(readlink "$BIN_DIR/$name")" = dstack ]; then
      continue
    fi
    if [ -e "$BIN_DIR/$name" ] && ! is_ours "$BIN_DIR/$name"; then
      [ "$FORCE" -eq 1 ] || fatal "$BIN_DIR/$name exists and is not ours; pass --force to replace it"
    fi
    ln -sf dstack "$BIN_DIR/$name"
  done
}

write_uninstall() {
  u="$BIN_DIR/dstack-uninstall.sh"
  # a re-install keeps what the first install recorded about the bin dir
  if [ -f "$u" ] && grep -q '^created_bin_dir=1$' "$u"; then CREATED_BIN_DIR=1; fi
  files=""
  for name in $(host_tools) dstack; do files="$files \"$BIN_DIR/$name\""; done
  cat > "$u.new.$$" <<UNINSTALL
#!/bin/sh
# Removes what install.sh installed into $BIN_DIR (and nothing else).
# Host state made by \`dstackup install\` is removed by \`dstackup destroy --purge\`.
set -eu
created_bin_dir=$CREATED_BIN_DIR
for f in$files; do
  if [ -e "\$f" ] || [ -L "\$f" ]; then rm -f "\$f"; echo "removed \$f"; fi
done
rm -f "$BIN_DIR/dstack-uninstall.sh"
if [ "\$created_bin_dir" = 1 ]; then rmdir "$BIN_DIR" 2>/dev/null || true; fi
UNINSTALL
  chmod 0755 "$u.new.$$"
  mv -f "$u.new.$$" "$u"
}

next_steps() {
  info "uninstall with: $BIN_DIR/dstack-uninstall.sh"
  case ":$PATH:" in *":$BIN_DIR:"*) ;; *) warn "$BIN_DIR is not on your PATH" ;; esac
  if [ "$CLIENT_ONLY" -eq 1 ]; then
    echo "next: $BIN_DIR/dstack --host ssh://you@your-tdx-host ps    (the client; hosts are set up with dstackup on Linux)"
  elif [ -e /dev/sgx_enclave ] || grep -qs tdx_host_platform /proc/cpuinfo; then
    echo "next: sudo $BIN_DIR/dstackup install"
  else
    echo "next: sudo $BIN_DIR/dstackup install    (on a TDX host)"
    echo "      $BIN_DIR/dstackup install --simulate --prefix \$HOME/dstack-sim    (try it here, no TDX needed)"
  fi
}

main "$@"
