#!/usr/bin/env bash
# The cluster as an operator runs it: scripts/cluster.sh brings up 3 NATS nodes (deploy/nats, JetStream replicas 3),
# a front end and 2 workers on loopback; `cryptounet client run` sends an encrypted batch through the front end; the
# result file must be byte-identical to `cryptounet infer` run locally on the same batch with the same keys.
# With --stop-node, the NATS node leading the task queue of the job's keys (a durable consumer) is stopped while a
# worker holds the job's task unacked, and the job must still complete with the same bytes (streams and consumer
# live on the two other nodes, clients reconnect; a task delivered again is harmless, the front end keeps the first
# result).
# The model is a tiny random HE-friendly U-Net (depth 1, 2 channels, 16x16 tiles) exported with python3-torch.
# Usage: cluster_sh.sh <cryptounet> <source dir> [--stop-node]
set -euo pipefail
cli=$1 src=$2 mode=${3:-}
python=${PYTHON:-/usr/bin/python3}
work=$(mktemp -d)
cleanup() {
  "$src/scripts/cluster.sh" stop "$work/cluster" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

PYTHONPATH="$src/tests/nn" "$python" - "$work/unet.onnx" <<'PY'
import sys, warnings
import torch
torch.set_num_threads(1)
from onnx_zoo import UNet
warnings.filterwarnings("ignore")
torch.manual_seed(9)
model = UNet(1).double().eval()
torch.onnx.export(model, torch.randn(1, 1, 16, 16, dtype=torch.float64), sys.argv[1], opset_version=17,
                  input_names=["image"], output_names=["logits"])
PY
"$cli" synth -o "$work/data" --count 1 --size 32 --seed 3 >/dev/null
"$cli" calibrate --model "$work/unet.onnx" --data "$work/data" --split all --tile 16 >/dev/null
"$cli" keygen --model "$work/unet.onnx" -o "$work/keys" >/dev/null
image=$(find "$work/data" -name '*.png' -path '*images*' | sort | head -1)
"$cli" encrypt --keys "$work/keys" --model "$work/unet.onnx" "$image" -o "$work/batch.ct" >/dev/null
"$cli" infer --model "$work/unet.onnx" --eval-keys "$work/keys/eval.bin" "$work/batch.ct" -o "$work/local.ct" \
  >/dev/null

"$src/scripts/cluster.sh" start "$work/cluster" --model "$work/unet.onnx" --workers 2 --threads 1 --replicas 3 \
  --cryptounet "$cli"
# shellcheck source=/dev/null
. "$work/cluster/cluster.env"
client=("$cli" client --server "$CRYPTOUNET_URL" --token-file "$CRYPTOUNET_TOKEN_FILE")

if [[ $mode != --stop-node ]]; then
  "${client[@]}" run --keys "$work/keys/eval.bin" --batch "$work/batch.ct" --out "$work/cluster.ct" >/dev/null
else
  key=$("${client[@]}" upload-keys --keys "$work/keys/eval.bin")
  job=$("${client[@]}" submit --key-id "$key" --batch "$work/batch.ct")
  # Does this node lead a key bundle's task queue with a task delivered and not yet acked (a worker acks only after
  # publishing the result)? Only the consumer's leader reports its pending acks.
  holds_task() {
    "$python" - "$work/cluster/nats/$1" <<'PY'
import glob, json, sys, urllib.request
base = json.load(open(glob.glob(sys.argv[1] + "/*.ports")[0]))["monitoring"][0]
jsz = json.load(urllib.request.urlopen(base + "/jsz?accounts=true&streams=true&consumers=true", timeout=5))
sys.exit(0 if any(c.get("name", "").startswith("cryptounet-keys-") and c.get("num_ack_pending", 0) > 0
                  for a in jsz.get("account_details") or [] for s in a.get("stream_detail") or []
                  for c in s.get("consumer_detail") or []) else 1)
PY
  }
  # Mid-job: wait (bounded, no timing) until a worker holds the task, then stop the node that leads its consumer.
  victim="" deadline=$((SECONDS + 600))
  while [[ -z $victim ]]; do
    for node in n1 n2 n3; do holds_task $node && victim=$node && break; done
    [[ -n $victim ]] && break
    ((SECONDS < deadline)) || { echo "no worker took the task" >&2; tail -5 "$work"/cluster/*/log; exit 1; }
    sleep 0.2
  done
  "$src/scripts/cluster.sh" stop-node "$work/cluster" "$victim"
  echo "stopped NATS node $victim (leader of the job's task queue) while a worker ran the task"
  "${client[@]}" wait --job-id "$job" >/dev/null || {
    "${client[@]}" status --job-id "$job" >&2
    tail -n 20 "$work"/cluster/frontend/log "$work"/cluster/workers/*/log >&2
    exit 1
  }
  "${client[@]}" download --job-id "$job" --out "$work/cluster.ct" >/dev/null
fi

cmp "$work/local.ct" "$work/cluster.ct" || {
  echo "the cluster's result differs from the local run" >&2
  tail -20 "$work"/cluster/frontend/log "$work"/cluster/workers/*/log >&2
  exit 1
}
echo "cluster result = local result ($(stat -c %s "$work/cluster.ct") bytes)"
