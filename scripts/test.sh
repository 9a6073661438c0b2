#!/usr/bin/env bash
# The default test suite (label "fast"; under 15 minutes on 2 cores). Long runs: ctest --test-dir build -L slow
set -euo pipefail
cd "$(dirname "$0")/.."
ctest --test-dir build --output-on-failure -L fast -j"$(nproc)" "$@"
