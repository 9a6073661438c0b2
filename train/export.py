"""Export of a trained U-Net for the C++ side: BN folding, ONNX (opset 13), JSON sidecar, test fixture.

The ONNX graph follows the hand-off contract in docs/CONTRACTS.md ("Model hand-off"): input `image`
[N,1,H,W], output `logits` [N,1,H,W], ops Conv / ConvTranspose / AveragePool / Concat / Mul / Add
(quadratic as Mul(Add(Mul(y, a), b), y), square as Mul(y, y)), and Relu / MaxPool for the standard model.
Every layer output is renamed to the name model.UNet records (e.g. `enc0.1.act`), so the sidecar's
activation ranges and the fixture's activations refer to ONNX tensor names.

  python3 train/export.py --check models/unet_he.onnx     # verify a file against the contract
"""
import argparse
import inspect
import json

import numpy as np
import onnx
import torch

ALLOWED_OPS = {"Conv", "ConvTranspose", "AveragePool", "MaxPool", "Relu", "Concat", "Mul", "Add"}
# recorded layer-name suffix -> ONNX op types it may come from
KIND_OPS = {"conv": {"Conv"}, "act": {"Mul", "Relu"}, "pool": {"AveragePool", "MaxPool"},
            "up": {"ConvTranspose"}, "cat": {"Concat"}, "logits": {"Conv"}}


def recorded_names(folded):
    rec = []
    with torch.no_grad():
        folded(torch.zeros(1, 1, 2 ** folded.config["depth"], 2 ** folded.config["depth"]), rec)
    return [n for n, _ in rec]


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _rename_graph(model, names):
    """Renames layer outputs (and their initializers) to the recorded names, in execution order."""
    g = model.graph
    inits = {i.name for i in g.initializer}
    producer = {o: n for n in g.node for o in n.output}
    significant = []
    for n in g.node:
        if n.op_type not in ALLOWED_OPS:
            raise ValueError(f"node {n.name}: op {n.op_type} is outside the hand-off contract")
        if n.op_type == "Add":
            continue
        if n.op_type == "Mul":
            a, b = n.input
            is_square = a == b
            is_quad_end = a in producer and producer[a].op_type == "Add"
            if not (is_square or is_quad_end):
                continue  # the a*y inside a quadratic
        significant.append(n)
    if len(significant) != len(names):
        raise ValueError(f"graph has {len(significant)} layer outputs, model records {len(names)}")
    rename = {}
    for n, name in zip(significant, names):
        kind = name.rsplit(".", 1)[-1]
        if n.op_type not in KIND_OPS[kind]:
            raise ValueError(f"layer {name}: expected {KIND_OPS[kind]}, graph has {n.op_type} ({n.name})")
        if name != "logits":
            rename[n.output[0]] = name
        n.name = name
        if n.op_type in ("Conv", "ConvTranspose"):
            rename[n.input[1]] = name + ".weight"
            if len(n.input) > 2:
                rename[n.input[2]] = name + ".bias"
        if n.op_type == "Mul" and n.input[0] != n.input[1]:  # quadratic: Mul(Add(Mul(y, a), b), y)
            add = producer[n.input[0]]
            mul = producer[add.input[0]]
            if mul.op_type != "Mul" or mul.input[0] != n.input[1] or add.input[1] not in inits \
                    or mul.input[1] not in inits:
                raise ValueError(f"layer {name}: quadratic is not Mul(Add(Mul(y, a), b), y)")
            rename[add.output[0]], add.name = name + ".ay_b", name + ".ay_b"
            rename[mul.output[0]], mul.name = name + ".ay", name + ".ay"
            rename[mul.input[1]], rename[add.input[1]] = name + ".a", name + ".b"
    for n in g.node:
        n.input[:] = [rename.get(i, i) for i in n.input]
        n.output[:] = [rename.get(o, o) for o in n.output]
    for i in g.initializer:
        i.name = rename.get(i.name, i.name)
    del g.value_info[:]


def check_onnx(path_or_model):
    """Checks a model against the hand-off contract; returns the op histogram. Raises ValueError."""
    m = onnx.load(path_or_model) if isinstance(path_or_model, str) else path_or_model
    onnx.checker.check_model(m)
    g = m.graph
    if [i.name for i in g.input if i.name not in {x.name for x in g.initializer}] != ["image"]:
        raise ValueError("graph input must be exactly `image`")
    if [o.name for o in g.output] != ["logits"]:
        raise ValueError("graph output must be exactly `logits`")
    opset = max(o.version for o in m.opset_import if o.domain in ("", "ai.onnx"))
    if opset > 17:
        raise ValueError(f"opset {opset} > 17 (libonnx 1.12)")
    inits = {i.name: i for i in g.initializer}
    producer = {o: n for n in g.node for o in n.output}
    hist = {}
    for n in g.node:
        hist[n.op_type] = hist.get(n.op_type, 0) + 1
        a = _attrs(n)
        where = f"node {n.name} ({n.op_type})"
        if n.op_type not in ALLOWED_OPS:
            raise ValueError(f"{where}: op outside the contract")
        if n.op_type == "Conv":
            k = list(inits[n.input[1]].dims)[2:]
            pad = k[0] // 2
            ok = (k in ([3, 3], [1, 1]) and len(n.input) == 3 and a.get("group", 1) == 1
                  and list(a.get("strides", [1, 1])) == [1, 1] and list(a.get("dilations", [1, 1])) == [1, 1]
                  and list(a.get("pads", [0] * 4)) == [pad] * 4)
            if not ok:
                raise ValueError(f"{where}: needs 3x3 pad 1 or 1x1 pad 0, stride 1, group 1, bias; got {a}")
        elif n.op_type == "ConvTranspose":
            k = list(inits[n.input[1]].dims)[2:]
            if k != [2, 2] or list(a.get("strides", [1, 1])) != [2, 2] or any(a.get("pads", [0] * 4)) \
                    or len(n.input) != 3 or a.get("group", 1) != 1 or any(a.get("output_padding", [0, 0])):
                raise ValueError(f"{where}: needs kernel 2 stride 2 pad 0 with bias; got {a}")
        elif n.op_type in ("AveragePool", "MaxPool"):
            if list(a.get("kernel_shape")) != [2, 2] or list(a.get("strides", [1, 1])) != [2, 2] \
                    or any(a.get("pads", [0] * 4)):
                raise ValueError(f"{where}: needs kernel 2 stride 2; got {a}")
        elif n.op_type == "Concat":
            if a.get("axis") != 1 or len(n.input) != 2 or producer[n.input[0]].op_type != "ConvTranspose":
                raise ValueError(f"{where}: needs axis 1, inputs [upsampled_decoder, encoder_skip]")
        elif n.op_type in ("Mul", "Add") and n.input[0] != n.input[1]:
            c = inits.get(n.input[1])
            if c is not None and (len(c.dims) != 4 or c.dims[0] != 1 or c.dims[2:] != [1, 1]):
                raise ValueError(f"{where}: quadratic coefficient {c.name} must have shape [1,C,1,1]")
    return hist


def export_onnx(folded, path):
    folded = folded.float().cpu().eval()
    kwargs = dict(input_names=["image"], output_names=["logits"], opset_version=13, do_constant_folding=True,
                  training=torch.onnx.TrainingMode.EVAL,
                  dynamic_axes={"image": {0: "N", 2: "H", 3: "W"}, "logits": {0: "N", 2: "H", 3: "W"}})
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False  # the TorchScript exporter: same graph as torch 1.13 produces
    with torch.no_grad():
        torch.onnx.export(folded, torch.zeros(1, 1, 32, 32), path, **kwargs)
    m = onnx.load(path)
    _rename_graph(m, recorded_names(folded))
    m.producer_name, m.doc_string = "cryptounet train/export.py", f"U-Net {json.dumps(folded.config)}"
    hist = check_onnx(m)
    onnx.save(m, path)
    return hist


def activation_ranges(folded, items, device, depth, worst_count=5):
    """[min, max] of the input and every layer output over whole images (float32, folded model), and the
    `worst_count` images with the largest |activation| (id, value, first layer where it occurs)."""
    folded = folded.float().to(device).eval()
    ranges, per_image = {}, []
    with torch.no_grad():
        for id_, x, _ in items:
            t = pad_to_multiple(torch.from_numpy(x)[None, None].to(device), 2 ** depth)
            rec = [("image", t)]
            folded(t, rec)
            peak = (0.0, "")
            for name, v in rec:
                if name.endswith(".cat"):
                    continue
                lo, hi = float(v.min()), float(v.max())
                r = ranges.setdefault(name, [lo, hi])
                r[0], r[1] = min(r[0], lo), max(r[1], hi)
                if max(-lo, hi) > peak[0]:
                    peak = (max(-lo, hi), name)
            per_image.append((id_, peak[0], peak[1]))
    per_image.sort(key=lambda p: -p[1])
    return ranges, [list(p) for p in per_image[:worst_count]]


def pad_to_multiple(t, m):
    """Zero-pads [N,C,H,W] at the bottom/right to multiples of m (0 is the normalized image's mean)."""
    h, w = t.shape[-2:]
    ph, pw = (-h) % m, (-w) % m
    return torch.nn.functional.pad(t, (0, pw, 0, ph)) if ph or pw else t


def make_fixture(folded, name, x):
    """Input crop -> float64 PyTorch reference logits and per-layer activations of the folded model."""
    m64 = folded.double().cpu().eval()
    t = torch.from_numpy(np.asarray(x, np.float32)).double()[None, None]
    rec = []
    with torch.no_grad():
        out = m64(t, rec)
    folded.float()
    sig = lambda a: [float(f"{v:.7g}") for v in a.reshape(-1).tolist()]
    return {"model": name, "input_shape": list(t.shape),
            "input": t.reshape(-1).tolist(),
            "output": out.reshape(-1).tolist(),
            "activations": {n: sig(v) for n, v in rec if n != "logits"},
            "note": "input: a preprocessed 32x32 crop of a test image (float32 values); output: logits of the "
                    "BN-folded model in float64 (PyTorch, eval mode); activations (float64 too) rounded to 7 significant digits"}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", nargs="+", required=True, metavar="ONNX")
    ap.add_argument("--fixture", nargs="*", default=[], help="fixture JSONs to run through onnxruntime (if installed)")
    a = ap.parse_args()
    for p in a.check:
        print(p, check_onnx(p))
    for p, fx in zip(a.check, a.fixture):
        import onnxruntime  # not in Debian: only where it is installed (the device machine)
        with open(fx) as f:
            fx = json.load(f)
        x = np.array(fx["input"], np.float32).reshape(fx["input_shape"])
        y = onnxruntime.InferenceSession(p).run(["logits"], {"image": x})[0]
        err = float(np.abs(y.reshape(-1) - np.array(fx["output"])).max())
        print(f"{p}: onnxruntime vs fixture max |diff| {err:.3g}")
        if err > 1e-4:
            raise SystemExit(f"{p}: onnxruntime output differs from the fixture by {err}")


if __name__ == "__main__":
    main()
