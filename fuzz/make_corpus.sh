#!/usr/bin/env bash
# Regenerates the committed seed corpora (fuzz/corpus/<target>/) from real
# files the engines write (fuzz/make_seeds.cc), keeping the crashing inputs
# of past findings (fuzz/corpus/<target>/crash-*), which are not generated.
# Needs the fuzz build: cmake --preset fuzz && cmake --build --preset fuzz.
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=build/fuzz/fuzz/strata_fuzz_seeds
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p fuzz/corpus
find fuzz/corpus -type f ! -name 'crash-*' -delete
"$seeds" "$scratch" fuzz/corpus
du -sh fuzz/corpus
