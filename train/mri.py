"""Brain extraction (skull stripping) data from Debian packages, in the shape train.py expects.

Train and validation: the Colin27 T1 template of `mricron-data` (ch2.nii.gz; brain mask ch2bet.nii.gz > 0),
resampled to isotropic voxels of 1.7, 2.0 and 2.4 mm (the held-out scan has 2 mm in-plane) and sliced along all
three axes, each slice zero-padded (or centre-cropped) to 128 x 128; every tenth slice position is validation.
Test: the second subject of `insighttoolkit5-examples` (KmeansTest_T1UCharRaw.nii.gz, mask
KmeansTest_T1RawSkullStrip.nii.gz > 0; 128 x 128 x 62 at 2 x 2 x 3 mm), its 62 slices along the third axis
(128 x 128, 2 mm in-plane): what `cryptounet demo --mri` segments.

Intensities follow the C++ reader (io::NiftiVolume::slice_image): the volume's range mapped onto [0, 1] with one
window for the whole volume; then the model hand-off preprocessing of data.py (per-slice z-score, clip).
"""
import os

import nibabel
import numpy as np
from scipy import ndimage

import data as D

TEMPLATES = "/usr/share/mricron/templates"
ITK_DATA = "/usr/share/doc/insighttoolkit5-examples/examples/Data"
TRAIN_VOXEL_MM = (1.7, 2.0, 2.4)
TILE = 128
TEST_AXIS = 2


def read_volume(path):
    v = np.asarray(nibabel.load(path).dataobj, dtype=np.float64)
    return v, nibabel.load(path).header.get_zooms()[:3]


def unit_range(v):
    lo, hi = v.min(), v.max()
    return (v - lo) / (hi - lo) if hi > lo else np.zeros_like(v)


def fit_tile(a, size=TILE):
    """Zero-pads (centred) or centre-crops a 2-D slice to size x size."""
    out = np.zeros((size, size), a.dtype)
    src, dst = [], []
    for n in a.shape:
        if n >= size:
            o = (n - size) // 2
            src.append(slice(o, o + size)), dst.append(slice(0, size))
        else:
            o = (size - n) // 2
            src.append(slice(0, n)), dst.append(slice(o, o + n))
    out[tuple(dst)] = a[tuple(src)]
    return out


def slices(volume, mask, axis):
    for i in range(volume.shape[axis]):
        # rows along the higher remaining axis, as io::NiftiVolume::slice returns them
        yield i, np.take(volume, i, axis).T, np.take(mask, i, axis).T


class MriDataset:
    """Same interface as data.Dataset: items[split] = [(id, x float32 [H,W], mask uint8 [H,W])]."""

    def __init__(self, clip, min_std=1e-3, templates=TEMPLATES, itk_data=ITK_DATA):
        self.items = {s: [] for s in D.SPLITS}
        self.labels = {}
        t1, voxel = read_volume(os.path.join(templates, "ch2.nii.gz"))
        brain = read_volume(os.path.join(templates, "ch2bet.nii.gz"))[0] > 0
        gray = unit_range(t1)
        for mm in TRAIN_VOXEL_MM:
            zoom = [v / mm for v in voxel]
            g = ndimage.zoom(gray, zoom, order=1)
            m = ndimage.zoom(brain.astype(np.float32), zoom, order=1) > 0.5
            for axis in range(3):
                for i, gs, ms in slices(g, m, axis):
                    split = "val" if i % 10 == 5 else "train"
                    self.items[split].append((f"ch2_{mm}mm_axis{axis}_{i}",
                                              D.preprocess(fit_tile(gs), clip, min_std),
                                              fit_tile(ms).astype(np.uint8)))
        t1, _ = read_volume(os.path.join(itk_data, "KmeansTest_T1UCharRaw.nii.gz"))
        brain = read_volume(os.path.join(itk_data, "KmeansTest_T1RawSkullStrip.nii.gz"))[0] > 0
        for i, gs, ms in slices(unit_range(t1), brain, TEST_AXIS):
            self.items["test"].append((f"kmeans_axis{TEST_AXIS}_{i}", D.preprocess(gs, clip, min_std),
                                       ms.astype(np.uint8)))

    def all_items(self):
        return [it for s in D.SPLITS for it in self.items[s]]


def volume_dice(predicted_masks, items):
    """Dice over all voxels of the slices (one 3-D overlap, not a mean over slices)."""
    inter = sum(int(np.logical_and(p, m > 0).sum()) for p, (_, _, m) in zip(predicted_masks, items))
    total = sum(int(p.sum()) + int((m > 0).sum()) for p, (_, _, m) in zip(predicted_masks, items))
    return 2 * inter / total if total else 1.0
