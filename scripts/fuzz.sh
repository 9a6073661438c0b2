#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang-14, ASan and UBSan in build-fuzz/, writes the seed corpus and
# runs every target for N seconds (default 60), then prints executions and crashes per target.
#   scripts/fuzz.sh            CI smoke run, ~60 s per target
#   scripts/fuzz.sh 3600       the documented longer run (one hour per target)
# Crashing inputs are kept in build-fuzz/fuzz-artifacts/; replay one with: build-fuzz/fuzz/<target> <file>
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
build="${CRYPTOUNET_FUZZ_BUILD:-build-fuzz}"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCRYPTOUNET_FUZZ=ON -DCRYPTOUNET_BUILD_TESTS=OFF -DCRYPTOUNET_BUILD_BENCH=OFF \
  -DCRYPTOUNET_FUZZ_SECONDS="$seconds" >/dev/null
cmake --build "$build" -j2 --target cryptounet_fuzz
log="$build/fuzz-last-run.log"
status=0
ctest --test-dir "$build" -L fuzz -V >"$log" 2>&1 || status=$?
# Summary from libFuzzer's final stats. ctest -V prefixes each test's output lines with "<test number>: ".
awk '
  /^[0-9]+: Test command:/ {
    n = $1 + 0
    for (i = 1; i <= NF; ++i) if ($i ~ /fuzz\/fuzz_/) { gsub(/"/, "", $i); k = split($i, p, "/"); name[n] = p[k] }
  }
  /^[0-9]+: stat::number_of_executed_units:/ { execs[$1 + 0] = $3 }
  /^[0-9]+: .*(ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:)/ { crashed[$1 + 0] = 1 }
  END {
    printf "%-22s %14s %8s\n", "target", "executions", "crashes"
    for (n in name) printf "%-22s %14s %8d\n", name[n], (n in execs) ? execs[n] : "?", crashed[n]
  }' "$log"
echo "full log: $log; crashing inputs (if any): $build/fuzz-artifacts/"
exit "$status"
