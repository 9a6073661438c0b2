"""Inputs for the CLI tests of tests/apps: a model small enough for the encrypted path in a second, and images it
segments exactly.

The model is one 1x1 convolution, 1 -> 2 channels, on intensities kept as they are (fixed normalization, mean 0,
std 1): channel 0 (nucleus) = 10 x - 2.5, channel 1 (core) = 10 x - 7.5. The nuclei have cores at 1.0 and rims
fading from 0.7 to 0.4 away from their centre on a black background: nucleus logits > 0 on the whole nucleus, core
logits > 0 only on the cores, and the core probability falls off from each centre, so the flood from the cores is
decided by the image, not by the encryption noise, except where both nuclei are equally near. Its sidecar says
"mask+core": the core channel seeds the instance split.

  tiny_instance_model.py OUT_DIR   writes tiny_core.onnx + tiny_core.json, discs.png (two touching nuclei, 40x24)
                                   and discs.nii (a 40x24x3 uint8 volume with a sheared, translated affine)
"""
import gzip
import json
import os
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper
from PIL import Image

WIDTH, HEIGHT = 40, 24
# Two nuclei of radius 8 whose disks overlap by 2 px (equally near both: column 19), and their cores (radius 5),
# which do not touch.
DISCS = [(12.0, 12.0), (26.0, 12.0)]
MIDLINE = 19


def discs_image(shift=0):
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    img = np.zeros((HEIGHT, WIDTH))
    for cx, cy in DISCS:
        d = np.hypot(x - cx - shift, y - cy)
        img = np.maximum(img, np.where(d <= 5, 1.0, np.where(d <= 8, 0.7 - 0.1 * (d - 5), 0.0)))
    return np.round(img * 255).astype(np.uint8)


def write_model(out):
    weight = helper.make_tensor("w", TensorProto.FLOAT, [2, 1, 1, 1], [10.0, 10.0])
    bias = helper.make_tensor("b", TensorProto.FLOAT, [2], [-2.5, -7.5])
    graph = helper.make_graph(
        [helper.make_node("Conv", ["image", "w", "b"], ["logits"], kernel_shape=[1, 1])], "tiny_core",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 1, "h", "w"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 2, "h", "w"])], [weight, bias])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), os.path.join(out, "tiny_core.onnx"))
    sidecar = {"name": "tiny_core", "format_version": 1, "tile": 16,
               "normalization": {"grayscale": "mean_rgb", "method": "fixed", "mean": [0.0], "std": [1.0], "clip": 10.0},
               "threshold_logit": 0.0, "output": "mask+core", "output_channels": 2,
               "instances": {"method": "core", "seed_above": 0.5, "min_area": 10}}
    with open(os.path.join(out, "tiny_core.json"), "w") as f:
        json.dump(sidecar, f)


def write_nifti(path, volume, affine):
    """A NIfTI-1 file (.nii) of a uint8 volume indexed [x, y, z], with `affine` (4x4) as its sform."""
    nx, ny, nz = volume.shape
    header = bytearray(352)
    struct.pack_into("<i", header, 0, 348)
    struct.pack_into("<8h", header, 40, 3, nx, ny, nz, 1, 1, 1, 1)  # dim
    struct.pack_into("<hh", header, 70, 2, 8)  # datatype uint8, bitpix
    struct.pack_into("<8f", header, 76, 1.0, *np.linalg.norm(affine[:3, :3], axis=0), 1, 1, 1, 1)  # pixdim
    struct.pack_into("<f", header, 108, 352.0)  # vox_offset
    struct.pack_into("<f", header, 112, 1.0)  # scl_slope
    struct.pack_into("<h", header, 254, 1)  # sform_code: scanner
    struct.pack_into("<12f", header, 280, *affine[:3].ravel())  # srow_x, srow_y, srow_z
    header[344:348] = b"n+1\0"
    with open(path, "wb") as f:
        f.write(bytes(header) + volume.astype(np.uint8).tobytes(order="F"))


def read_nifti(path):
    """(dims, sform rows, voxels [x, y, z]) of a NIfTI-1 file, gzipped or not."""
    raw = (gzip.open if path.endswith(".gz") else open)(path, "rb").read()
    dims = struct.unpack_from("<8h", raw, 40)
    datatype = struct.unpack_from("<h", raw, 70)[0]
    offset = int(struct.unpack_from("<f", raw, 108)[0])
    srows = np.array(struct.unpack_from("<12f", raw, 280)).reshape(3, 4)
    dtype = {2: np.uint8, 512: np.uint16}[datatype]
    shape = tuple(dims[1:1 + dims[0]])
    count = int(np.prod(shape))
    voxels = np.frombuffer(raw, dtype, count, offset).reshape(shape, order="F")
    return shape, srows, voxels


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    write_model(out)
    Image.fromarray(discs_image()).save(os.path.join(out, "discs.png"))
    # Slices z = 0..2: the discs shifted right by 0, 1, 2 px; voxel (x, y, z) holds pixel (row y, column x).
    volume = np.stack([discs_image(s).T for s in range(3)], axis=2)
    affine = np.array([[0.8, 0.1, 0.0, -12.5], [0.0, 0.8, 0.0, 30.0], [0.0, 0.0, 2.5, 7.0], [0, 0, 0, 1]])
    write_nifti(os.path.join(out, "discs.nii"), volume, affine)


if __name__ == "__main__":
    main()
