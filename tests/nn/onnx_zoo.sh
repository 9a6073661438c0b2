#!/usr/bin/env bash
# PyTorch -> ONNX -> C++ for models written the ordinary way: export the zoo (tests/nn/onnx_zoo.py with Debian's
# python3-torch; a missing torch fails the test), check loader, float64 reference and encrypted layer code against
# it (OnnxZoo.*), then the CLI on it: `inspect` plans an HE-friendly model (also one with strided convolutions) and
# refuses a ReLU one naming the node and the fix; `predict` runs a model without a sidecar (gray and RGB); `calibrate` writes one that `predict` then reads.
# Usage: onnx_zoo.sh <cryptounet> <cryptounet_onnx_zoo_tests> <source dir> <output dir>
set -euo pipefail
cli=$1 zoo_tests=$2 src=$3 out=$4
python=${PYTHON:-/usr/bin/python3}
rm -rf "$out"
"$python" "$src/tests/nn/onnx_zoo.py" --out "$out"

CRYPTOUNET_ONNX_ZOO="$out" "$zoo_tests" | tee "$out/gtest.log"
grep -q '\[  PASSED  \] 1 test' "$out/gtest.log" || { echo "the zoo check did not run" >&2; exit 1; }

"$cli" inspect "$out/unet_d2_bn_quadratic_op17.onnx" --tile 16 --json >"$out/inspect.json"
"$python" - "$out/inspect.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["plan"]["levels"] == max(layer["level"] for layer in r["layers"]) > 0, r["plan"]
assert r["plan"]["log_qp"] <= r["plan"]["log_qp_bound_128bit"], r["plan"]
assert r["plan"]["galois_keys"] > 0 and r["parameters"] > 0
assert r["plan"]["memory_bytes_estimate"] > r["plan"]["evaluation_key_bytes_estimate"] > 0, r["plan"]
assert [a["log_n"] for a in r["plan"]["larger_rings"]] == list(range(r["plan"]["log_n"] + 1, 18)), r["plan"]
PY
# Strided 2x2 convolutions: listed with their kernel, halving the side, one level each (their BN folded in).
"$cli" inspect "$out/unet_d2_strided_conv_bn_op17.onnx" --tile 16 --json >"$out/inspect_strided.json"
"$python" - "$out/inspect_strided.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
layers = r["layers"]
strided = [l for l in layers if l["op"] == "StridedConv2x2"]
assert len(strided) == 2 and r["pooling_depth"] == 2 and r["plan"] is not None, r
for l in strided:
    source = layers[l["inputs"][0]]
    assert l["kernel"] == 2 and l["height"] * 2 == source["height"], l
    assert l["level"] == source["level"] + 1, (l, source)
PY
if "$cli" inspect "$out/relu_maxpool_op13.onnx" --tile 16 >"$out/inspect_relu.log" 2>&1; then
  echo "inspect planned a ReLU model" >&2; exit 1
fi
grep -qF "Relu" "$out/inspect_relu.log" && grep -qF "x*x" "$out/inspect_relu.log" ||
  { echo "inspect's refusal does not name the ReLU and its replacement: $(cat "$out/inspect_relu.log")" >&2; exit 1; }

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
assert "image" in ranges and "logits" in ranges and len(ranges) >= 8, sorted(ranges)
assert all(lo <= hi for lo, hi in ranges.values()), ranges
PY
# A colour 3-class model without a sidecar: the defaults follow its channels (RGB preprocessing, output "classes").
"$cli" predict --plain --model "$out/unet_d1_bn_rgb_3class_op13.onnx" --data "$out/data" --json >"$out/predict_rgb.json"
"$python" - "$out/predict_rgb.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["images"] == 3 and len(r["per_image"]) == 3, r
PY
echo "onnx zoo: all checks passed"
