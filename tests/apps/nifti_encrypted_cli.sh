#!/usr/bin/env bash
# The encrypted CLI path on a NIfTI volume: encrypt (one image per slice), infer, decrypt --volumes writes the label
# volume with the input's dimensions and affine, equal to `predict --plain`'s and to the expected segmentation (the
# tiny model of tests/apps/tiny_instance_model.py is exact: foreground where the input is above 0.25).
# Usage: nifti_encrypted_cli.sh <cryptounet> <source dir> <work dir>
set -euo pipefail
cli=$1 src=$2 work=$3
python=${PYTHON:-/usr/bin/python3}
rm -rf "$work"
mkdir -p "$work"
"$python" "$src/tests/apps/tiny_instance_model.py" "$work"
model="$work/tiny_core.onnx" volume="$work/discs.nii"

"$cli" predict --plain --model "$model" "$volume" -o "$work/plain" >/dev/null
"$cli" keygen --model "$model" -o "$work/keys" >/dev/null
"$cli" encrypt --keys "$work/keys" --model "$model" "$volume" -o "$work/batch.ct" >/dev/null
"$cli" infer --model "$model" --eval-keys "$work/keys/eval.bin" "$work/batch.ct" -o "$work/result.ct" >/dev/null
"$cli" decrypt --keys "$work/keys" --model "$model" "$work/result.ct" -o "$work/decrypted" --volumes "$volume" \
  >/dev/null

"$python" - "$src/tests/apps" "$work" <<'PY'
import sys
import numpy as np
sys.path.insert(0, sys.argv[1])
from tiny_instance_model import read_nifti
work = sys.argv[2]
shape, srows, voxels = read_nifti(f"{work}/discs.nii")
for name in ("plain", "decrypted"):
    out_shape, out_srows, labels = read_nifti(f"{work}/{name}/discs_mask.nii.gz")
    assert out_shape == shape == (40, 24, 3), (name, out_shape, shape)
    assert np.allclose(out_srows, srows), (name, out_srows, srows)
    assert (labels == (voxels > 64)).all(), f"{name}: {int((labels != (voxels > 64)).sum())} voxels differ"
print(f"NIfTI {shape}: encrypted label volume = plaintext = expected, affine kept")
PY
