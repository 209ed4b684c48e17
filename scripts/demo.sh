#!/usr/bin/env bash
# The main job: `strata bench --quick` — fillrandom, readrandom, seekrandom,
# YCSB-A and YCSB-C with 200,000 keys on every strata engine and every peer
# (RocksDB, LevelDB, LMDB) built in, each engine in its own process. Prints
# the table and writes the plots, JSON and CSV under the build directory.
set -euo pipefail
build=${1:-build/release}
strata="$build/tools/strata"
out="$build/bench-demo"
rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)

"$strata" version
# A quick look at the disk first: fdatasync rate and read-back through the io layer.
"$strata" io smoke "$out/io" --count 500
# The io layer against fio (the physical limit) in quick mode.
if [[ -x "$build/bench/strata_io_bench" ]]; then
  "$build/bench/strata_io_bench" --quick --dir "$out/io_bench"
fi

baseline=()
if "$strata" bench --list_engines | grep -qx rocksdb; then
  baseline=(--baseline=rocksdb)
fi
"$strata" bench --quick --db="$out/db" "${baseline[@]}" \
  --plot="$out/plots" --json="$out/results.json" --csv="$out/results.csv"
rm -rf "$out/db" "$out/io" "$out/io_bench"

echo
echo "demo: results in $out (results.json, results.csv)"
echo "demo: plots in $out/plots:"
ls "$out/plots" | sed 's/^/  /'
