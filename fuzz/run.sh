#!/usr/bin/env bash
# Runs each libFuzzer target for FUZZ_SECONDS (default 60), one after the
# other, on the committed seed corpus (fuzz/corpus/<target>, read only) plus
# the inputs it finds (build/fuzz/corpus/<target>, kept between runs).
# Crashing inputs land in build/fuzz/artifacts/<target>/; logs in
# build/fuzz/logs/. Exits 1 if any target found a crash, leak or timeout.
#
#   fuzz/run.sh [TARGET...]        (default: every target)
#   FUZZ_SECONDS=3600 fuzz/run.sh wal
# Build first: cmake --preset fuzz && cmake --build --preset fuzz (or `make fuzz`).
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
out=build/fuzz
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  targets=(sstable block bloom manifest wal write_batch log_store snapshot btree replica)
fi
failed=()
mkdir -p "$out/logs"
for t in "${targets[@]}"; do
  mkdir -p "$out/corpus/$t" "$out/artifacts/$t"
  log="$out/logs/$t.log"
  start=$(date +%s)
  "$out/fuzz/${t}_fuzzer" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$out/artifacts/$t/" \
      "$out/corpus/$t" "fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
  echo "fuzz: $t: ${execs:-?} executions in $(( $(date +%s) - start )) s, ${cov:-cov: ?}, exit $rc"
  if [[ $rc -ne 0 ]]; then
    failed+=("$t")
    grep -m3 -E 'ERROR|runtime error|==[0-9]+==' "$log" || true
  fi
done
if [[ ${#failed[@]} -ne 0 ]]; then
  echo "fuzz: FAILED: ${failed[*]} (inputs in $out/artifacts/, logs in $out/logs/)"
  exit 1
fi
