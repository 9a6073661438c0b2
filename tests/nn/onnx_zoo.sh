#!/usr/bin/env bash
# PyTorch -> ONNX -> C++ for models written the ordinary way: export the zoo (tests/nn/onnx_zoo.py, Debian's
# python3-torch; a missing torch fails the test), check the float64 reference against PyTorch (OnnxZoo.*), and check
# that `cryptounet inspect` plans every HE-friendly model and refuses the others naming the node and the fix.
# Usage: onnx_zoo.sh <cryptounet> <cryptounet_nn_tests> <source dir> <output dir>
set -euo pipefail
cli=$1 nn_tests=$2 src=$3 out=$4
python=${PYTHON:-/usr/bin/python3}
rm -rf "$out"
"$python" "$src/tests/nn/onnx_zoo.py" --out "$out"

CRYPTOUNET_ONNX_ZOO="$out" "$nn_tests" --gtest_filter='OnnxZoo.*' | tee "$out/gtest.log"
grep -q '\[  PASSED  \] 1 test' "$out/gtest.log" || { echo "the zoo check did not run" >&2; exit 1; }

# Planned for encryption: the HE-friendly U-Nets (opset 13 and 17 load alike).
for m in unet_d1_square unet_d2_square_pow unet_d1_bn_quadratic unet_d2_bn_quadratic unet_d2_bn_exporter_folded \
         unet_d1_dynamic_axes unet_d1_residual_add unet_d1_conv5x5 size_matching_pad; do
  "$cli" inspect "$out/${m}_op13.onnx" --tile 16 >/dev/null || { echo "inspect failed on $m" >&2; exit 1; }
done
# Refused by the planner with the node and its replacement.
expect_refusal() {  # model, words...
  local model=$1; shift
  if "$cli" inspect "$out/${model}_op13.onnx" --tile 16 >"$out/$model.log" 2>&1; then
    echo "inspect planned $model, which must be refused" >&2; exit 1
  fi
  for word in "$@"; do
    grep -qF -- "$word" "$out/$model.log" || { echo "$model: '$word' missing from: $(cat "$out/$model.log")" >&2; exit 1; }
  done
}
expect_refusal relu_maxpool "/Relu" "x*x"
expect_refusal unet_d1_quadratic_constant "constant term"
expect_refusal bn_after_concat "/bn/BatchNormalization" "must directly follow a convolution"
# Without a sidecar: predict runs on defaults; calibrate writes one with every tensor's range, which predict reads.
"$cli" synth -o "$out/data" --count 3 --size 32 --seed 5 >/dev/null
model="$out/unet_d1_bn_quadratic_op13.onnx"
"$cli" predict --plain --model "$model" --data "$out/data" --json >"$out/predict_defaults.json"
"$cli" calibrate --model "$model" --data "$out/data" --split all --tile 16 >/dev/null
"$cli" predict --plain --model "$model" --data "$out/data" --json >"$out/predict_calibrated.json"
"$python" - "${model%.onnx}.json" <<'PY'
import json, sys
sidecar = json.load(open(sys.argv[1]))
assert sidecar["tile"] == 16, sidecar["tile"]
ranges = sidecar["activation_ranges"]
assert "image" in ranges and "logits" in ranges, sorted(ranges)
assert len(ranges) >= 8, sorted(ranges)
assert all(lo <= hi for lo, hi in ranges.values()), ranges
PY
echo "onnx zoo: all checks passed"
