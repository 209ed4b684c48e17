#!/usr/bin/env bash
# The main job: a smoke workload through the io layer, then the io layer
# against fio (quick mode); `strata bench`'s quick suite joins when it lands.
set -euo pipefail
build=${1:-build/release}
dir="$build/demo"
mkdir -p "$dir"
"$build/tools/strata" version
"$build/tools/strata" io smoke "$dir"
if [[ -x "$build/bench/strata_io_bench" ]]; then
  "$build/bench/strata_io_bench" --quick --dir "$dir/io_bench"
else
  echo "demo: $build/bench/strata_io_bench not built (STRATA_BUILD_BENCH=OFF?): skipped"
fi
echo "demo: results above; scratch directory $dir"
