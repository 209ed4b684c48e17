#!/usr/bin/env bash
# Installs every Debian package strata needs to build, test and benchmark.
# Idempotent: when every package is present it only runs dpkg-query and exits.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  liburing-dev libxxhash-dev libzstd-dev liblz4-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  libcli11-dev libfmt-dev
  librocksdb-dev libleveldb-dev liblmdb-dev
  libraft-dev libuv1-dev
  fio
  clang-14 libclang-rt-14-dev
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
