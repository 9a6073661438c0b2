#!/usr/bin/env bash
# A model's instance channel through the CLI: a tiny "mask+core" model (tests/apps/tiny_instance_model.py) on two
# touching nuclei. `predict --plain` splits them by the sidecar's core seeds (two objects; the mask alone, as
# components, is one); keygen, encrypt, infer and decrypt give the same mask and the same two objects (pixel for
# pixel, but for the column equally near both nuclei, which the encryption noise may give to either).
# Usage: instance_channel_cli.sh <cryptounet> <source dir> <work dir>
set -euo pipefail
cli=$1 src=$2 work=$3
python=${PYTHON:-/usr/bin/python3}
rm -rf "$work"
mkdir -p "$work"
"$python" "$src/tests/apps/tiny_instance_model.py" "$work"
model="$work/tiny_core.onnx"

"$cli" predict --plain --model "$model" "$work/discs.png" -o "$work/plain" --json >"$work/plain.json"
"$cli" predict --plain --model "$model" "$work/discs.png" -o "$work/components" --instances components --json \
  >"$work/components.json"

"$cli" keygen --model "$model" -o "$work/keys" >/dev/null
"$cli" encrypt --keys "$work/keys" --model "$model" "$work/discs.png" -o "$work/batch.ct" >/dev/null
"$cli" infer --model "$model" --eval-keys "$work/keys/eval.bin" "$work/batch.ct" -o "$work/result.ct" >/dev/null
"$cli" decrypt --keys "$work/keys" --model "$model" "$work/result.ct" -o "$work/decrypted" >/dev/null

"$python" - "$src/tests/apps" "$work" <<'PY'
import json, sys
import numpy as np
from PIL import Image
sys.path.insert(0, sys.argv[1])
from tiny_instance_model import MIDLINE
work = sys.argv[2]
load = lambda p: np.asarray(Image.open(f"{work}/{p}")).astype(np.int64)
plain, comps = json.load(open(f"{work}/plain.json")), json.load(open(f"{work}/components.json"))
assert plain["instances"] == "core" and comps["instances"] == "components", (plain["instances"], comps["instances"])
labels = load("plain/discs_labels.png")
assert set(np.unique(labels)) == {0, 1, 2}, np.unique(labels)
assert labels[12, 12] == 1 and labels[12, 26] == 2, (labels[12, 12], labels[12, 26])
assert plain["per_image"][0]["count"] == 2 and comps["per_image"][0]["count"] == 1, (plain, comps)
assert set(np.unique(load("components/discs_labels.png"))) == {0, 1}
mask = load("plain/discs_mask.png") > 0
assert (mask == (labels > 0)).all() and mask.sum() > 300, mask.sum()
assert (load("decrypted/discs_mask.png") > 0).tolist() == mask.tolist(), "decrypted mask differs from plaintext"
differ = np.argwhere(load("decrypted/discs_labels.png") != labels)
assert (differ[:, 1] == MIDLINE).all(), f"decrypted nuclei differ from plaintext at {differ.tolist()}"
print(f"two touching nuclei: core split 2 objects ({mask.sum()} px), components 1; encrypted = plaintext")
PY
