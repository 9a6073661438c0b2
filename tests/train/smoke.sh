#!/usr/bin/env bash
# The Python -> C++ hand-off on a fresh model: synthesize a small DSB-layout set, train a tiny U-Net for a few
# steps on the CPU (train/train.py), export ONNX + sidecar + fixture, then check in C++ that the loader and the
# float64 forward match PyTorch on the fixture and that `cryptounet predict` runs the model on the test split.
# Usage: smoke.sh <cryptounet> <cryptounet_nn_tests> <source dir>
set -euo pipefail
cli=$1 nn_tests=$2 src=$3
python=${PYTHON:-/usr/bin/python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$cli" synth -o "$work/data" --count 20 --size 48 --seed 11 >/dev/null
"$python" "$src/train/train.py" --data "$work/data" --out "$work/run" --models-dir "$work/models" \
  --fixture-dir "$work/fixtures" \
  --set name=unet_smoke depth=1 base_channels=2 crop=32 batch=4 steps=80 warmup=5 eval_every=20 lr=0.01 threads=1
for f in models/unet_smoke.onnx models/unet_smoke.json fixtures/unet_smoke_fixture.json run/curves.png; do
  [[ -s "$work/$f" ]] || { echo "train.py did not write $f" >&2; exit 1; }
done

CRYPTOUNET_TRAINED_MODELS="$work/models" CRYPTOUNET_TRAINED_FIXTURES="$work/fixtures" \
  CRYPTOUNET_TRAINED_NAME=unet_smoke "$nn_tests" --gtest_filter='FreshlyTrainedModel.*' | tee "$work/gtest.log"
grep -q '\[  PASSED  \] 1 test' "$work/gtest.log" || { echo "the fixture check did not run" >&2; exit 1; }

"$cli" predict --plain --model "$work/models/unet_smoke.onnx" --data "$work/data" --split test --json \
  > "$work/predict.json"
# 80 steps reach Dice ~0.79 on this synthetic test split; C++ must reproduce Python's test Dice (same tiles,
# float64 vs float32: a few pixels may flip at the threshold, hence 0.01).
"$python" - "$work/predict.json" "$work/models/unet_smoke.json" <<'PY'
import json, sys
cpp = json.load(open(sys.argv[1]))
py = json.load(open(sys.argv[2]))["metrics"]["test_dice"]
print(f"fresh model, 2 test images: Dice PyTorch {py:.4f}, C++ predict {cpp['dice']:.4f}")
assert cpp["images"] == 2, cpp
assert py > 0.5, "the tiny model did not learn"
assert abs(cpp["dice"] - py) <= 0.01, "C++ and PyTorch disagree on the test Dice"
PY
