#!/usr/bin/env bash
# The main job: a smoke workload through the io layer (replaced by
# `strata bench`'s quick suite when it lands).
set -euo pipefail
build=${1:-build/release}
dir="$build/demo"
mkdir -p "$dir"
"$build/tools/strata" version
"$build/tools/strata" io smoke "$dir"
echo "demo: results above; scratch directory $dir"
