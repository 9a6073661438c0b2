#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang-14, ASan and UBSan in build-fuzz/ and runs them.
#   scripts/fuzz.sh                    the CI gate, deterministic: every target replays its committed corpus
#                                      fuzz/corpus/<target>/ (seeds, kept coverage inputs, every past finding)
#   scripts/fuzz.sh explore SECONDS [TARGET...]
#                                      fuzzing, outside CI: random seeds, SECONDS per target, 10 s per unit at most,
#                                      a working corpus in build-fuzz/fuzz-explore-corpus/; at the end the inputs
#                                      that add coverage are merged into fuzz/corpus/ (commit them)
#   scripts/fuzz.sh seeds              rewrite the seed-* files of fuzz/corpus/ after a file-format change
# A finding is fixed, and its input committed as fuzz/corpus/<target>/regression-<what> with a unit test, the same
# day (docs/FUZZING.md).
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-replay}"
build="${CRYPTOUNET_FUZZ_BUILD:-build-fuzz}"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCRYPTOUNET_FUZZ=ON -DCRYPTOUNET_BUILD_TESTS=OFF -DCRYPTOUNET_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target cryptounet_fuzz
targets=(fuzz_http fuzz_ckks_params fuzz_ckks_objects fuzz_henn_files fuzz_model fuzz_tiff fuzz_nifti fuzz_dicom)
max_len=$(sed -n 's/^CRYPTOUNET_FUZZ_MAX_LEN:STRING=//p' "$build/CMakeCache.txt")

case "$mode" in
  replay)
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
      /^[0-9]+: .*(ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|^[0-9]+: finding:)/ { crashed[$1 + 0] = 1 }
      END {
        printf "%-22s %14s %8s\n", "target", "inputs", "failed"
        for (n in name) printf "%-22s %14s %8d\n", name[n], (n in execs) ? execs[n] : "?", crashed[n]
      }' "$log"
    echo "full log: $log; failing inputs (if any): $build/fuzz-artifacts/"
    exit "$status"
    ;;
  explore)
    seconds="${2:?usage: scripts/fuzz.sh explore SECONDS [TARGET...]}"
    shift 2
    (($#)) && targets=("$@")
    status=0
    for t in "${targets[@]}"; do
      mkdir -p "$build/fuzz-explore-corpus/$t"
      echo "== $t: $seconds s"
      log="$build/fuzz-explore-$t.log"
      OMP_NUM_THREADS=1 "$build/fuzz/$t" -max_total_time="$seconds" -max_len="$max_len" -malloc_limit_mb=512 \
        -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/$t-" \
        "$build/fuzz-explore-corpus/$t" "fuzz/corpus/$t" >"$log" 2>&1 || status=1
      grep -E '^(stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY|finding:)' "$log" || true
      # Keep what adds coverage (libFuzzer names merged inputs by their SHA-1).
      OMP_NUM_THREADS=1 "$build/fuzz/$t" -merge=1 -max_len="$max_len" -malloc_limit_mb=512 -rss_limit_mb=2048 \
        -timeout=10 "fuzz/corpus/$t" "$build/fuzz-explore-corpus/$t" >"$log.merge" 2>&1 || status=1
      grep -E '^MERGE-OUTER: [0-9]+ new files' "$log.merge" || true
    done
    echo "new coverage inputs: git status fuzz/corpus; findings (if any): $build/fuzz-artifacts/ -- fix each and"
    echo "commit its input as fuzz/corpus/<target>/regression-<what>"
    exit "$status"
    ;;
  seeds)
    "$build/make_seeds" fuzz/corpus "$max_len" models/unet_he.onnx models/unet_he.json
    ;;
  *)
    echo "usage: scripts/fuzz.sh [replay | explore SECONDS [TARGET...] | seeds]" >&2
    exit 2
    ;;
esac
