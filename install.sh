#!/bin/sh
# dstack toolchain installer: one binary (dstack) plus the dstackup and
# dstack-auth links. POSIX sh; the whole body is the function `main`, called
# on the last line, so a truncated download runs nothing.
#
#   curl -fsSL <release-url>/install.sh | sh
#   curl -fsSL <release-url>/install.sh | sh -s -- --prefix /opt/dstack
#   sh install.sh --from dstack-0.1.0-linux-x64.tar.gz      # air-gapped
#
# Flags (env var in brackets):
#   --prefix DIR      install into DIR/bin                 [DSTACK_PREFIX, default /usr/local]
#   --version V       release version, or "latest"         [DSTACK_VERSION, default latest]
#   --release-url URL releases page (see the layout below)  [DSTACK_RELEASE_URL]
#   --from FILE       install from a local tarball; checked against SHA256SUMS beside it if present
#   --force           replace a `dstack` in <prefix>/bin that is not ours
#
# Release layout (GitHub's): <URL>/download/v<version>/<asset> for a version and
# <URL>/latest/download/<asset> for the newest release, where <URL> is the
# releases page (default https://github.com/Dstack-TEE/dstack-toolchain/releases)
# and the assets are SHA256SUMS and dstack-<version>-linux-<arch>.tar.gz. For
# "latest", SHA256SUMS names the tarball, and so the version.

main() {
  set -eu
  umask 022

  PREFIX="${DSTACK_PREFIX:-/usr/local}"
  VERSION="${DSTACK_VERSION:-latest}"
  RELEASE_URL="${DSTACK_RELEASE_URL:-https://github.com/Dstack-TEE/dstack-toolchain/releases}"
  FROM=""
  FORCE=0
  CREATED_BIN_DIR=0

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
      -h|--help) usage; return 0 ;;
      *) fatal "unknown option: $1 (see --help)" ;;
    esac
  done

  case "$PREFIX" in /*) ;; *) fatal "--prefix must be an absolute path: $PREFIX" ;; esac
  BIN_DIR="${PREFIX%/}/bin"

  detect_arch
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
install.sh [--prefix DIR] [--version V] [--release-url URL] [--from FILE.tar.gz] [--force]
  --prefix DIR       install into DIR/bin (env DSTACK_PREFIX, default /usr/local)
  --version V        release version or latest (env DSTACK_VERSION, default latest)
  --release-url URL  releases page: fetches URL/latest/download/ASSET or URL/download/vV/ASSET (env DSTACK_RELEASE_URL)
  --from FILE        install from a local tarball (air-gapped); checked against SHA256SUMS beside it
  --force            replace a `dstack` (or dstackup, dstack-auth) in DIR/bin that is not ours
USAGE
}

info() { printf '[INFO]  %s\n' "$*" >&2; }
warn() { printf '[WARN]  %s\n' "$*" >&2; }
fatal() { printf '[ERROR] %s\n' "$*" >&2; exit 1; }

need_arg() {
  [ $# -ge 2 ] || fatal "$1 needs a value"
}

detect_arch() {
  [ "$(uname -s)" = "Linux" ] || fatal "dstack runs on Linux hosts only (this is $(uname -s))"
  case "$(uname -m)" in
    x86_64|amd64) ARCH=x64 ;;
    aarch64|arm64) ARCH=arm64 ;;
    *) fatal "unsupported architecture $(uname -m)" ;;
  esac
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

install_from_release() {
  if [ "$VERSION" = "latest" ]; then
    base="${RELEASE_URL%/}/latest/download"
  else
    base="${RELEASE_URL%/}/download/v${VERSION#v}"
  fi
  info "fetching checksums from $base/SHA256SUMS"
  download "$base/SHA256SUMS" "$TMP_DIR/SHA256SUMS" || fatal "could not download $base/SHA256SUMS"
  if [ "$VERSION" = "latest" ]; then
    tarball=$(awk '{ n = $2; sub(/^\*/, "", n) } n ~ /^dstack-.*-linux-'"$ARCH"'\.tar\.gz$/ { print n; exit }' "$TMP_DIR/SHA256SUMS")
    [ -n "$tarball" ] || fatal "no linux-$ARCH tarball listed in $base/SHA256SUMS"
  else
    tarball="dstack-${VERSION#v}-linux-$ARCH.tar.gz"
  fi
  want=$(expected_sum "$TMP_DIR/SHA256SUMS" "$tarball")
  [ -n "$want" ] || fatal "$tarball is not listed in $base/SHA256SUMS"
  bin_sum=$(expected_sum "$TMP_DIR/SHA256SUMS" dstack)
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
  if [ -f "$sums" ]; then
    want=$(expected_sum "$sums" "$(basename "$FROM")")
    [ -n "$want" ] || fatal "$(basename "$FROM") is not listed in $sums"
    verify "$FROM" "$want"
    bin_sum=$(expected_sum "$sums" dstack)
  else
    warn "no SHA256SUMS beside $FROM: installing without a checksum check"
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
  tar -xzf "$1" -C "$TMP_DIR/unpack" --no-same-owner dstack || fatal "$(basename "$1") does not contain the dstack binary"
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

ensure_links() {
  for name in dstackup dstack-auth; do
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
  cat > "$u.new.$$" <<UNINSTALL
#!/bin/sh
# Removes what install.sh installed into $BIN_DIR (and nothing else).
# Host state made by \`dstackup install\` is removed by \`dstackup destroy --purge\`.
set -eu
created_bin_dir=$CREATED_BIN_DIR
for f in "$BIN_DIR/dstackup" "$BIN_DIR/dstack-auth" "$BIN_DIR/dstack"; do
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
  if [ -e /dev/sgx_enclave ] || grep -qs tdx_host_platform /proc/cpuinfo; then
    echo "next: sudo $BIN_DIR/dstackup install"
  else
    echo "next: sudo $BIN_DIR/dstackup install    (on a TDX host)"
    echo "      $BIN_DIR/dstackup install --simulate --prefix \$HOME/dstack-sim    (try it here, no TDX needed)"
  fi
}

main "$@"
