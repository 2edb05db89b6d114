#!/bin/sh
# Installs the `ve` binary for this machine from a release: picks ve-<version>-<os>-<arch>[-musl]
# for `uname -s`/`uname -m` (and the C library on Linux), checks it against the release's
# SHA256SUMS, and puts it in ~/.local/bin (or --dir) as `ve`.
#
#   sh install.sh [--from DIR|URL] [--dir BINDIR] [--target TARGET]
#
#   --from    a release directory or the URL of one (holding SHA256SUMS and the binaries);
#             default: the directory this script is in, when it holds SHA256SUMS, else $VE_RELEASE_URL
#   --dir     where to install `ve`; default: $HOME/.local/bin
#   --target  skip detection: linux-x64, linux-arm64, linux-x64-musl, linux-arm64-musl,
#             darwin-x64 or darwin-arm64
#
# POSIX sh only (dash, busybox ash, bash, zsh's sh mode). Nothing is installed unless the sum matches.
set -eu

say() { printf '%s\n' "$*"; }
fail() {
  printf 'install.sh: %s\n' "$*" >&2
  exit 1
}

usage() {
  sed -n '6,13s/^# \{0,1\}//p' "$0"
}

from=""
bindir=""
target=""
while [ $# -gt 0 ]; do
  case "$1" in
    --from) [ $# -ge 2 ] || fail "--from needs a directory or URL"; from=$2; shift 2 ;;
    --from=*) from=${1#--from=}; shift ;;
    --dir) [ $# -ge 2 ] || fail "--dir needs a directory"; bindir=$2; shift 2 ;;
    --dir=*) bindir=${1#--dir=}; shift ;;
    --target) [ $# -ge 2 ] || fail "--target needs a value"; target=$2; shift 2 ;;
    --target=*) target=${1#--target=}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) fail "unknown argument '$1'; usage: sh install.sh [--from DIR|URL] [--dir BINDIR] [--target TARGET]" ;;
  esac
done

# --- Which file: os, arch, C library ---------------------------------------------------------

detect_libc() {
  # musl's ldd says so on --version (and exits 1); glibc's getconf knows its version.
  if ldd --version 2>&1 | grep -qi musl; then
    echo musl
  elif getconf GNU_LIBC_VERSION >/dev/null 2>&1; then
    echo glibc
  elif ls /lib/ld-musl-*.so.1 >/dev/null 2>&1; then
    echo musl
  else
    echo glibc
  fi
}

detect_target() {
  os_name=$(uname -s)
  machine=$(uname -m)
  case "$os_name" in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    *) fail "no ve release for $os_name; releases exist for Linux and macOS (Darwin)" ;;
  esac
  case "$machine" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64 | armv8*) arch=arm64 ;;
    *) fail "no ve release for the $machine processor; releases exist for x86_64 and arm64 (aarch64)" ;;
  esac
  # A shell under Rosetta on Apple silicon reports x86_64; the native binary is the better one.
  if [ "$os" = darwin ] && [ "$arch" = x64 ] && [ "$(sysctl -n sysctl.proc_translated 2>/dev/null || true)" = 1 ]; then
    arch=arm64
  fi
  suffix=""
  if [ "$os" = linux ] && [ "$(detect_libc)" = musl ]; then suffix=-musl; fi
  echo "$os-$arch$suffix"
}

if [ -z "$target" ]; then
  target=$(detect_target)
else
  case "$target" in
    linux-x64 | linux-arm64 | linux-x64-musl | linux-arm64-musl | darwin-x64 | darwin-arm64) ;;
    *) fail "unknown --target '$target'; use linux-x64, linux-arm64, linux-x64-musl, linux-arm64-musl, darwin-x64 or darwin-arm64" ;;
  esac
fi

# --- Where from ------------------------------------------------------------------------------

script_dir=$(CDPATH='' cd -- "$(dirname -- "$0")" 2>/dev/null && pwd) || script_dir=""
if [ -z "$from" ]; then
  if [ -n "$script_dir" ] && [ -f "$script_dir/SHA256SUMS" ]; then
    from=$script_dir
  elif [ -n "${VE_RELEASE_URL:-}" ]; then
    from=$VE_RELEASE_URL
  else
    fail "say where the release is: --from DIR (holding SHA256SUMS and the binaries) or --from URL"
  fi
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/ve-install.XXXXXX") || fail "cannot create a temporary directory in ${TMPDIR:-/tmp}"
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# fetch NAME: copies or downloads release file NAME into $work.
fetch() {
  case "$from" in
    http://* | https://*)
      url="${from%/}/$1"
      if command -v curl >/dev/null 2>&1; then
        curl -fsSL -o "$work/$1" "$url" || fail "cannot download $url"
      elif command -v wget >/dev/null 2>&1; then
        wget -q -O "$work/$1" "$url" || fail "cannot download $url"
      else
        fail "downloading $url needs curl or wget; install one, or download the release and use --from DIR"
      fi
      ;;
    *)
      [ -d "$from" ] || fail "--from $from is not a directory (nor an http(s) URL)"
      [ -f "$from/$1" ] || fail "$from has no $1"
      cp "$from/$1" "$work/$1" || fail "cannot copy $from/$1"
      ;;
  esac
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d ' ' -f 1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d ' ' -f 1
  elif command -v openssl >/dev/null 2>&1; then
    openssl dgst -sha256 "$1" | sed 's/^.*= *//'
  else
    fail "checking the download needs sha256sum, shasum or openssl"
  fi
}

fetch SHA256SUMS
# The one line of SHA256SUMS for this target, whatever the version in the name.
line=$(grep -E "^[0-9a-f]{64} [ *]ve-[^ ]+-$target\$" "$work/SHA256SUMS" || true)
[ -n "$line" ] || fail "the release at $from has no ve binary for $target (SHA256SUMS lists: $(sed 's/^.* [ *]//' "$work/SHA256SUMS" | tr '\n' ' '))"
[ "$(printf '%s\n' "$line" | wc -l | tr -d ' ')" = 1 ] || fail "SHA256SUMS at $from lists more than one ve binary for $target"
expected=${line%% *}
name=${line##* }
name=${name#\*}

fetch "$name"
actual=$(sha256_of "$work/$name")
if [ "$actual" != "$expected" ]; then
  fail "$name does not match SHA256SUMS (expected $expected, got $actual): the file is damaged or not the release's; nothing was installed"
fi
chmod 755 "$work/$name"

# --- Install ---------------------------------------------------------------------------------

if [ -z "$bindir" ]; then
  [ -n "${HOME:-}" ] || fail "HOME is not set; say where to install with --dir BINDIR"
  bindir=$HOME/.local/bin
fi
mkdir -p "$bindir" 2>/dev/null || fail "cannot create $bindir; choose another with --dir BINDIR"
[ -w "$bindir" ] || fail "cannot write to $bindir; choose another with --dir BINDIR"
# Copied beside the target first, then renamed: a running ve is never overwritten in place, and
# an interrupted install leaves the old binary whole.
partial="$bindir/.ve.partial.$$"
cp "$work/$name" "$partial" || { rm -f "$partial"; fail "cannot write $partial (disk full?)"; }
chmod 755 "$partial"
# Bun writes an ad-hoc signature that does not cover the whole darwin-x64 binary (a Bun bug); the
# sum above was checked on the release's bytes, so signing the copy here ad hoc is safe.
if [ "${target%%-*}" = darwin ] && command -v codesign >/dev/null 2>&1; then
  codesign --force --sign - "$partial" >/dev/null 2>&1 || say "warning: codesign could not re-sign $partial; if macOS kills ve at start, run: codesign --force --sign - $bindir/ve" >&2
fi
# Tried before it replaces anything: a binary this machine cannot run (another C library, an
# old kernel) leaves the previous install as it was.
if ! version=$("$partial" --version 2>&1); then
  rm -f "$partial"
  fail "$name does not run on this machine ($version); nothing was installed. Try another --target."
fi
mv -f "$partial" "$bindir/ve" || { rm -f "$partial"; fail "cannot move the new binary to $bindir/ve"; }

say "installed $name as $bindir/ve ($version, sha256 $actual)"
case ":${PATH:-}:" in
  *":$bindir:"*) ;;
  *)
    say ""
    say "$bindir is not on your PATH. Add it, for this shell and future ones:"
    say "  export PATH=\"$bindir:\$PATH\""
    say "  echo 'export PATH=\"$bindir:\$PATH\"' >> ~/.profile   # or ~/.bashrc, ~/.zshrc"
    ;;
esac
