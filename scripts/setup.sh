#!/usr/bin/env bash
# Installs every Debian 12 package cryptounet needs, then configures and builds Release into build/.
# Idempotent: re-running only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake pkg-config git
  libsodium-dev            # CSPRNG for secrets and seeds
  libcli11-dev nlohmann-json3-dev libpng-dev libfmt-dev libspdlog-dev
  libtiff-dev              # TIFF stacks from microscopes; masks and label images for Fiji and napari
  libnifti2-dev            # NIfTI-1/2 MRI volumes in, label volumes out
  libxml2-dev              # OME-XML of OME-TIFF files
  libdcmtk-dev dcmtk       # DICOM images in, DICOM Segmentation objects out; dcmdump for the tests
  libcpp-httplib-dev       # encrypted-inference server and client
  libssl-dev openssl       # TLS for the service; `openssl req` makes a certificate (docs/SERVICE.md)
  libnats-dev nats-server  # the cluster: front end and workers over NATS JetStream (docs/SCALING.md)
  libonnx-dev libprotobuf-dev protobuf-compiler   # ONNX model hand-off
  libgtest-dev libgmock-dev libbenchmark-dev
  chromium                 # the HTML report rendered in a headless browser by the tests (tests/io/browser_report.cpp)
  clang-14 libclang-rt-14-dev libomp-14-dev   # fuzz/: libFuzzer + ASan/UBSan runtimes, OpenMP for clang (scripts/fuzz.sh)
  python3 python3-torch python3-onnx python3-numpy python3-pil python3-matplotlib python3-scipy  # training (train/)
  python3-nibabel mricron-data insighttoolkit5-examples  # brain MRI: training volumes and the `demo --mri` subject
  python3-bcrypt           # scripts/cluster.sh: bcrypt hashes of the NATS passwords (deploy/nats/passwords.conf)
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"
echo "Built: build/cryptounet, build/bench/ckks_ops. Run the tests with: ./scripts/test.sh"
