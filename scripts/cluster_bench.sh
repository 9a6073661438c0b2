#!/usr/bin/env bash
# The cluster's scaling and key-affinity benchmarks, as run for docs/SCALING.md; meant for a quiet machine (wall
# times measure the cores the run got, not the cluster).
#
#   scripts/cluster_bench.sh [BUILD_DIR] [--affinity]
#
# Builds the benchmark programs in BUILD_DIR (default build/, configured with CRYPTOUNET_BUILD_BENCH=ON), then runs
# build/bench/cluster_scaling 3: one job of 3 lane groups (12 ciphertexts of the tests' tiny U-Net) on a loopback
# nats-server, with 1 worker and then with 2 (1 OpenMP thread each, threads of one process), printing each half's
# job wall time, CPU time, each worker's CPU time and every task's key, input, compute and upload times. With
# --affinity it also runs build/bench/cluster_affinity (3 clients x 2 jobs, 2 workers caching one bundle each, with
# and without key affinity). The load average is printed before and after each half.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$here/build affinity=0
for arg in "$@"; do
  case $arg in
    --affinity) affinity=1 ;;
    -*) echo "usage: cluster_bench.sh [BUILD_DIR] [--affinity]" >&2; exit 2 ;;
    *) build=$arg ;;
  esac
done
command -v nats-server >/dev/null || { echo "cluster_bench.sh: nats-server not found (scripts/setup.sh)" >&2; exit 1; }
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCRYPTOUNET_BUILD_BENCH=ON >/dev/null
targets=(cluster_scaling)
((affinity)) && targets+=(cluster_affinity)
cmake --build "$build" -j"$(nproc)" --target "${targets[@]}" >/dev/null
echo "host: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
TIMEFORMAT="cluster_scaling (keygen and encryption included): %R s wall, %U s user, %S s system"
time "$build/bench/cluster_scaling" 3
if ((affinity)); then
  TIMEFORMAT="cluster_affinity (keygen and encryption included): %R s wall, %U s user, %S s system"
  time "$build/bench/cluster_affinity" 3 2 1
fi
