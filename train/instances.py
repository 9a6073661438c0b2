"""Nuclei as objects in Python, mirroring src/nn/instances (the split) and src/nn/metrics (the DSB score).

Used to choose and report the contour-aware model's instance settings on the DSB split:
  components: connected components (8-connectivity) of the nucleus mask;
  contour:    seeds = components of (nucleus prob > 0.5 and boundary prob < seed_below), flooded over the mask in
              order of increasing boundary probability; a mask component without a seed is one object.
Objects under min_area pixels are dropped in both.
"""
import numpy as np
from scipy import ndimage

EIGHT = np.ones((3, 3), bool)
IOU_THRESHOLDS = np.arange(0.5, 0.96, 0.05)


def _drop_small(labels, min_area):
    area = np.bincount(labels.ravel())
    keep = area >= min_area
    keep[0] = False
    renumber = np.zeros(len(area), np.int32)
    renumber[keep] = np.arange(1, keep.sum() + 1)
    return renumber[labels]


def components(mask, min_area=10):
    return _drop_small(ndimage.label(mask, EIGHT)[0], min_area)


def contour_split(nucleus_logit, boundary_logit, seed_below=0.5, min_area=10):
    """Instances from the nucleus and boundary logits of the contour-aware model."""
    mask = nucleus_logit > 0
    p_boundary = 1 / (1 + np.exp(-np.clip(boundary_logit, -60, 60)))
    seeds, count = ndimage.label(mask & (p_boundary < seed_below), EIGHT)
    parts, _ = ndimage.label(mask, EIGHT)
    unseeded = np.setdiff1d(np.unique(parts[mask]), np.unique(parts[seeds > 0]))
    extra = np.isin(parts, unseeded)
    seeds[extra] = count + np.searchsorted(unseeded, parts[extra]) + 1
    markers = seeds.astype(np.int32)
    markers[~mask] = -1  # background markers: the flood stays inside the mask
    cost = np.round(p_boundary * 65535).astype(np.uint16)
    labels = ndimage.watershed_ift(cost, markers, structure=EIGHT)
    labels[~mask] = 0
    return _drop_small(np.maximum(labels, 0), min_area)


def dsb_average_precision(predicted, truth):
    """Mean over IoU thresholds 0.50..0.95 of TP / (TP + FP + FN); 1 when both have no object."""
    p_ids, t_ids = np.unique(predicted[predicted > 0]), np.unique(truth[truth > 0])
    if len(p_ids) == 0 and len(t_ids) == 0:
        return 1.0
    both = (predicted > 0) & (truth > 0)
    pairs, overlap = np.unique(predicted[both].astype(np.int64) << 32 | truth[both], return_counts=True)
    p_area = np.bincount(predicted.ravel())
    t_area = np.bincount(truth.ravel())
    pi, ti = pairs >> 32, pairs & 0xffffffff
    iou = overlap / (p_area[pi] + t_area[ti] - overlap)
    scores = []
    for t in IOU_THRESHOLDS:
        tp = int((iou > t).sum())
        scores.append(tp / (len(p_ids) + len(t_ids) - tp))
    return float(np.mean(scores))
