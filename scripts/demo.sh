#!/usr/bin/env bash
# The main job: `strata bench --quick` — fillrandom, readrandom, seekrandom,
# YCSB-A and YCSB-C with 200,000 keys on every strata engine and every peer
# (RocksDB, LevelDB, LMDB) built in, each engine in its own process. Prints
# the table and writes the plots, JSON and CSV under the build directory.
# Then the LSM's profile x device matrix on the paced device model
# (plots/matrix.svg, matrix.json).
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
# The profile x device matrix of the LSM on the paced device model (~45 s):
# does each disk profile win on the disk it is for (docs/BENCHMARKS.md)?
"$strata" bench --matrix --pace --engines=lsm --db="$out/matrix-db" \
  --plot="$out/matrix-plots" --json="$out/matrix.json"
cp "$out/matrix-plots/matrix.svg" "$out/plots/matrix.svg"
rm -rf "$out/db" "$out/io" "$out/io_bench" "$out/matrix-db" "$out/matrix-plots"

echo
echo "demo: results in $out (results.json, results.csv, matrix.json)"
echo "demo: plots in $out/plots:"
ls "$out/plots" | sed 's/^/  /'
