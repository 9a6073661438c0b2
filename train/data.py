"""Data for training: DSB-layout folders, the shared preprocessing, the split, and the crop sampler.

The preprocessing here is the model hand-off contract (docs/CONTRACTS.md, "Model hand-off"); the C++ side
implements the same steps, so change both or neither:
  gray = mean(R, G, B) / 255 (16-bit: / 65535; alpha ignored; 1-channel images as they are)
  if mean(gray) > 0.5: gray = 1 - gray                      (brightfield -> dark background)
  x = (gray - mean(gray)) / max(std(gray), min_std)          (population std over the whole image)
  x = clip(x, -clip, clip)
Masks: PNG value > 127 -> 1. Instance labels (labels/<id>.png, 0 background) give the second target of the
instance-aware models: the boundary band (every pixel whose 3x3 neighbourhood holds more than one label, background
included: two pixels wide across each outline and between touching nuclei) or the nucleus core (every nucleus eroded
on its own by a few pixels).

Split (deterministic, by sorted image id): index % 10 == 8 -> validation, == 9 -> test, otherwise train.

A packed file (`python3 train/data.py --pack ...`) stores each image's gray numerator exactly as uint16
(sum of R, G, B for 8-bit RGB, with the matching denominator) so that the device machine, which has no
copy of the data folder, reproduces the preprocessing bit for bit.
"""
import argparse
import os

import numpy as np
from PIL import Image

SPLITS = ("train", "val", "test")


def split_of(index):
    """Split of the index-th id in sorted order."""
    r = index % 10
    return "val" if r == 8 else "test" if r == 9 else "train"


def list_ids(data_dir):
    ids = sorted(os.path.splitext(f)[0] for f in os.listdir(os.path.join(data_dir, "images")) if f.endswith(".png"))
    if not ids:
        raise ValueError(f"no PNG images in {data_dir}/images")
    return ids


def read_gray_numerator(path):
    """Returns (numerator uint16 [H,W], denominator) with gray = numerator / denominator, exactly."""
    im = Image.open(path)
    a = np.asarray(im)
    if a.dtype == np.uint8:
        full = 255
    elif a.dtype in (np.uint16, np.int32) or im.mode.startswith("I"):
        full = 65535
    elif a.dtype == bool:
        a, full = a.astype(np.uint8), 1
    else:
        raise ValueError(f"{path}: unsupported PNG sample type {a.dtype} (mode {im.mode})")
    if a.ndim == 2:
        return a.astype(np.uint32), full
    if a.ndim == 3 and a.shape[2] in (3, 4):
        if full != 255:
            raise ValueError(f"{path}: 16-bit colour PNG not supported")
        return a[:, :, :3].astype(np.uint32).sum(axis=2), 3 * full
    if a.ndim == 3 and a.shape[2] == 2:  # gray + alpha
        return a[:, :, 0].astype(np.uint32), full
    raise ValueError(f"{path}: unsupported PNG layout {a.shape}")


def read_mask(path):
    m = np.asarray(Image.open(path))
    if m.ndim == 3:
        m = m[:, :, 0]
    return (m > 127).astype(np.uint8)


def read_labels(path):
    return np.asarray(Image.open(path)).astype(np.int32)


def boundary_band(labels):
    """1 where the 3x3 neighbourhood of a pixel spans more than one label (0 included), else 0."""
    from scipy import ndimage
    return (ndimage.maximum_filter(labels, 3) != ndimage.minimum_filter(labels, 3)).astype(np.uint8)


def nucleus_core(labels, erosion):
    """1 where the (2*erosion+1)^2 neighbourhood of a pixel lies inside one nucleus, else 0: every nucleus shrunk by
    `erosion` pixels on its own, so touching nuclei get separate cores (nuclei thinner than that get none)."""
    from scipy import ndimage
    size = 2 * erosion + 1
    return ((labels > 0) & (ndimage.maximum_filter(labels, size) == ndimage.minimum_filter(labels, size))).astype(np.uint8)


def preprocess(gray, clip, min_std=1e-3):
    """gray float64 [H,W] in [0,1] -> normalized float32 image (the contract's steps)."""
    gray = np.asarray(gray, dtype=np.float64)
    if gray.mean() > 0.5:
        gray = 1.0 - gray
    x = (gray - gray.mean()) / max(gray.std(), min_std)
    return np.clip(x, -clip, clip).astype(np.float32)


def pack(data_dir, out_path):
    """All images of a DSB-layout folder into one compressed .npz (gray numerators, masks, ids)."""
    ids = list_ids(data_dir)
    arrays = {}
    for i, id_ in enumerate(ids):
        num, den = read_gray_numerator(os.path.join(data_dir, "images", id_ + ".png"))
        if den == 765 and not (num % 3).any():  # R = G = B: store the gray level itself (packs smaller)
            num, den = num // 3, 255
        if num.max() > 65535:
            raise ValueError(f"{id_}: gray numerator does not fit uint16")
        arrays[f"img_{i}"] = num.astype(np.uint8 if num.max() <= 255 else np.uint16)
        arrays[f"den_{i}"] = np.array(den, dtype=np.uint32)
        mask = read_mask(os.path.join(data_dir, "masks", id_ + ".png"))
        if mask.shape != num.shape:
            raise ValueError(f"{id_}: mask shape {mask.shape} != image shape {num.shape}")
        arrays[f"mask_{i}"] = np.packbits(mask, axis=None)
    arrays["ids"] = np.array(ids)
    np.savez_compressed(out_path, **arrays)
    return len(ids)


def touching_zone(labels, radius):
    """1 where the (2*radius+1)^2 neighbourhood of a pixel holds two different nuclei, else 0: where touching nuclei
    meet, the pixels that decide whether they are split (rare, so the core loss weights them up)."""
    from scipy import ndimage
    size = 2 * radius + 1
    far = np.iinfo(np.int32).max
    lowest = ndimage.minimum_filter(np.where(labels > 0, labels, far).astype(np.int32), size)
    return ((lowest < far) & (lowest != ndimage.maximum_filter(labels, size))).astype(np.uint8)


class Dataset:
    """Images of one folder (or packed file), preprocessed, grouped by split."""

    def __init__(self, source, clip, min_std=1e-3, with_labels=False):
        self.items = {s: [] for s in SPLITS}  # split -> list of (id, x float32 [H,W], mask uint8 [H,W])
        self.labels = {}  # id -> instance labels int32 [H,W] (folders with labels/, when asked for)
        if os.path.isfile(source):
            z = np.load(source)
            ids = list(z["ids"])
            for i, id_ in enumerate(ids):
                num = z[f"img_{i}"].astype(np.float64)
                gray = num / float(z[f"den_{i}"])
                mask = np.unpackbits(z[f"mask_{i}"], count=num.size).reshape(num.shape)
                self.items[split_of(i)].append((str(id_), preprocess(gray, clip, min_std), mask))
        else:
            for i, id_ in enumerate(list_ids(source)):
                num, den = read_gray_numerator(os.path.join(source, "images", id_ + ".png"))
                mask_path = os.path.join(source, "masks", id_ + ".png")
                mask = read_mask(mask_path) if os.path.exists(mask_path) else None
                self.items[split_of(i)].append((id_, preprocess(num / den, clip, min_std), mask))
                if with_labels:
                    self.labels[id_] = read_labels(os.path.join(source, "labels", id_ + ".png"))

    def all_items(self):
        """Every image regardless of split (for folders that are evaluation-only, like data/demo)."""
        return [it for s in SPLITS for it in self.items[s]]


class CropSampler:
    """Random crops with flips, rot90 and intensity jitter, from the train split.

    Targets are masks [H,W] or stacks of K target channels [K,H,W]; batches are [N,1,c,c] and [N,K,c,c].

    Images are drawn with probability proportional to sqrt(area), so large images are seen more often
    without drowning the many small ones."""

    def __init__(self, items, crop, seed, jitter_scale=0.15, jitter_shift=0.15, noise=0.05, clip=4.0):
        self.items = [(x, m if m.ndim == 3 else m[None]) for _, x, m in items if min(x.shape) >= crop]
        if not self.items:
            raise ValueError(f"no training image is at least {crop}x{crop}")
        w = np.array([np.sqrt(x.size) for x, _ in self.items])
        self.p = w / w.sum()
        self.crop, self.rng = crop, np.random.default_rng(seed)
        self.jitter_scale, self.jitter_shift, self.noise, self.clip = jitter_scale, jitter_shift, noise, clip

    def batch(self, n):
        c, rng = self.crop, self.rng
        xs = np.empty((n, 1, c, c), np.float32)
        ms = np.empty((n, self.items[0][1].shape[0], c, c), np.float32)
        for k, i in enumerate(rng.choice(len(self.items), size=n, p=self.p)):
            x, m = self.items[i]
            r0 = rng.integers(0, x.shape[0] - c + 1)
            c0 = rng.integers(0, x.shape[1] - c + 1)
            xc, mc = x[r0:r0 + c, c0:c0 + c], m[:, r0:r0 + c, c0:c0 + c]
            rot = rng.integers(0, 4)
            xc, mc = np.rot90(xc, rot), np.rot90(mc, rot, axes=(1, 2))
            if rng.random() < 0.5:
                xc, mc = xc[:, ::-1], mc[:, :, ::-1]
            # intensity jitter on the normalized values (the z-score would undo a jitter applied before it)
            s = 1.0 + rng.uniform(-self.jitter_scale, self.jitter_scale)
            t = rng.uniform(-self.jitter_shift, self.jitter_shift)
            xc = xc * s + t + self.noise * rng.standard_normal(xc.shape)
            xs[k, 0] = np.clip(xc, -self.clip, self.clip)
            ms[k] = mc
        return xs, ms


def main():
    ap = argparse.ArgumentParser(description="Pack a DSB-layout folder into one .npz for the device machine.")
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "dsb2018"))
    ap.add_argument("--pack", required=True, help="output .npz path")
    a = ap.parse_args()
    n = pack(a.data, a.pack)
    print(f"packed {n} images into {a.pack} ({os.path.getsize(a.pack) / 2**20:.1f} MiB)")


if __name__ == "__main__":
    main()
