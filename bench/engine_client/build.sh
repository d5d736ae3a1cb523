#!/usr/bin/env bash
# Build engine-client from Debian's Go packages, offline (GOPATH mode over /usr/share/gocode).
#   bench/engine_client/build.sh [OUT_DIR]     (default: bench/out/engine-client/)
# Installs the Debian packages if missing (apt-get update only then). Progress goes to stderr;
# the last stdout line is the binary's path. Exits non-zero with a one-line reason if it cannot build.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/../out/engine-client}"
packages=(golang-go golang-google-grpc-dev golang-google-protobuf-dev)

die() { echo "engine_client/build.sh: $*" >&2; exit 1; }

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
    command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get"
    [[ $(id -u) == 0 ]] || die "missing ${missing[*]}; installing them needs root"
    echo "installing ${missing[*]}" >&2
    apt-get update >&2 || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${packages[@]}" >&2 \
        || die "apt-get install ${packages[*]} failed"
fi

gocode=/usr/share/gocode
[[ -d $gocode/src/google.golang.org/grpc && -d $gocode/src/google.golang.org/protobuf/encoding/protowire ]] \
    || die "grpc or protowire sources not under $gocode/src"
go=/usr/bin/go
[[ -x $go ]] || go="$(command -v go)" || die "no go toolchain"

mkdir -p "$out" 2>/dev/null || die "cannot create $out"
out="$(cd "$out" && pwd)"
gopath="$(mktemp -d)"
trap 'rm -rf "$gopath"' EXIT

# GOPATH mode: imports resolve from Debian's sources only; no module proxy, no network.
cd "$here"
if ! GO111MODULE=off GOPATH="$gocode:$gopath" GOFLAGS= GOPROXY=off CGO_ENABLED=0 \
    GOCACHE="${GOCACHE:-${TMPDIR:-/tmp}/engine-client-gocache}" \
    "$go" build -trimpath -o "$out/engine-client" . >&2; then
    die "go build failed (see above)"
fi
echo "$out/engine-client"
