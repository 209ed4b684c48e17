#!/usr/bin/env bash
# Installs the strata build into a scratch prefix, then configures, builds and
# runs tests/install/consumer against it with find_package(strata).
# Usage: run_install_test.sh BUILD_DIR CONSUMER_SRC WORK_DIR GENERATOR CXX CXX_FLAGS LINKER_FLAGS
set -euo pipefail
build=$1 consumer=$2 work=$3 generator=$4 cxx=$5 cxx_flags=$6 linker_flags=$7
rm -rf "$work"
mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" >"$work/install.log"
test -f "$work/prefix/include/strata/status.h"
test ! -e "$work/prefix/include/io"  # only the public headers are installed
# strata's -Werror and warning flags must not leak into its users' builds.
if grep -q -- "-Werror" "$work"/prefix/lib*/cmake/strata/strataTargets.cmake; then
  echo "install test: exported targets carry -Werror" >&2
  exit 1
fi
cmake -S "$consumer" -B "$work/build" -G "$generator" \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS="$cxx_flags" -DCMAKE_EXE_LINKER_FLAGS="$linker_flags" \
  -DCMAKE_PREFIX_PATH="$work/prefix" >"$work/configure.log"
cmake --build "$work/build" >"$work/build.log"
"$work/build/app" "$work/db"
