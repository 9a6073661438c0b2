#!/usr/bin/env bash
# Build the side-by-side harnesses against a SEAL and/or OpenFHE installed OUTSIDE this repository.
#   bench/sidebyside/build.sh <install-prefix> [out-dir]
# Builds <out-dir>/seal_ops if <prefix> holds SEAL 4.x, <out-dir>/openfhe_ops if it holds OpenFHE.
# out-dir defaults to <prefix>/../sidebyside-bin. Needs Google Benchmark (libbenchmark-dev).
set -euo pipefail
prefix=$(cd "${1:?usage: build.sh <install-prefix> [out-dir]}" && pwd)
out=${2:-$prefix/../sidebyside-bin}
mkdir -p "$out"
out=$(cd "$out" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
CXX=${CXX:-g++}
CXXFLAGS=${CXXFLAGS:-"-O3 -march=native -DNDEBUG"}
built=0

seal_inc=$(ls -d "$prefix"/include/SEAL-4.* 2>/dev/null | sort -V | tail -1 || true)
seal_lib=$(ls "$prefix"/lib*/libseal-4.*.a 2>/dev/null | sort -V | tail -1 || true)
if [[ -n "$seal_inc" && -n "$seal_lib" ]]; then
  echo "SEAL: $seal_inc, $seal_lib"
  extra=()
  if grep -q '^#define SEAL_USE_INTEL_HEXL' "$seal_inc/seal/util/config.h"; then
    # SEAL built with -DSEAL_USE_INTEL_HEXL=ON against a HEXL (and cpu_features) installed in the same prefix
    echo "SEAL uses Intel HEXL"
    extra=("$(dirname "$seal_lib")/libhexl.a" "$(dirname "$seal_lib")/libcpu_features.a")
  fi
  $CXX -std=c++17 $CXXFLAGS -I"$seal_inc" "$here/seal_ops.cpp" -o "$out/seal_ops" \
    "$seal_lib" "${extra[@]}" -lbenchmark -lpthread
  echo "built $out/seal_ops"
  built=1
fi

ofhe_inc="$prefix/include/openfhe"
if [[ -f "$ofhe_inc/pke/openfhe.h" ]]; then
  libdir=$(dirname "$(ls "$prefix"/lib*/libOPENFHEpke.* | head -1)")
  echo "OpenFHE: $ofhe_inc, $libdir"
  $CXX -std=c++17 $CXXFLAGS -fopenmp -I"$ofhe_inc" -I"$ofhe_inc/core" -I"$ofhe_inc/pke" -I"$ofhe_inc/binfhe" \
    "$here/openfhe_ops.cpp" -o "$out/openfhe_ops" \
    -L"$libdir" -Wl,--disable-new-dtags,-rpath,"$libdir" -lOPENFHEpke -lOPENFHEcore -lOPENFHEbinfhe -lbenchmark -lpthread
  echo "built $out/openfhe_ops"
  built=1
fi

[[ $built == 1 ]] || { echo "neither SEAL 4.x nor OpenFHE found under $prefix" >&2; exit 1; }
