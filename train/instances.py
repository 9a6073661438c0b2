"""Nuclei as objects in Python, mirroring src/nn/instances (the split) and src/nn/metrics (the DSB score).

Used to choose and report the instance-aware models' settings on the DSB split:
  components: connected components (8-connectivity) of the nucleus mask;
  contour:    seeds where the boundary probability is below seed_below (channel 1 of a "mask+contour" model),
  core:       seeds where the core probability is above seed_above (channel 1 of a "mask+core" model);
              both are one seeded split: the seeds' connected parts inside the nucleus mask (logit > 0) flood the
              mask in order of decreasing interior score (1 - boundary, core); a mask part without a seed is one
              object.
Objects under min_area pixels are dropped in all.
"""
import heapq

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


def sigmoid(logit):
    return 1 / (1 + np.exp(-np.clip(logit, -60, 60)))


def _flood(mask, interior, labels):
    """Priority flood restricted to the mask (as src/nn/instances.cpp): pixels join the labelled neighbour that
    reaches them first when flooding from the highest `interior` down; ties first come, first served.
    (scipy's watershed_ift does not fit: it leaves 16-bit costs above ~2^15 unflooded.)"""
    h, w = mask.shape
    lab = labels.ravel().copy()
    flat_mask = mask.ravel()
    score = interior.ravel()
    heap = [(-score[p], order, p) for order, p in enumerate(np.flatnonzero(lab))]
    heapq.heapify(heap)
    arrival = len(heap)
    while heap:
        _, _, p = heapq.heappop(heap)
        y, x = divmod(int(p), w)
        for dy in (-1, 0, 1):
            ny = y + dy
            if ny < 0 or ny >= h:
                continue
            for dx in (-1, 0, 1):
                nx = x + dx
                if (dy or dx) and 0 <= nx < w:
                    n = ny * w + nx
                    if flat_mask[n] and not lab[n]:
                        lab[n] = lab[p]
                        heapq.heappush(heap, (-score[n], arrival, n))
                        arrival += 1
    return lab.reshape(h, w)


def seeded_split(mask, interior, seed_above, min_area=10):
    """Instances of `mask` seeded where `interior` > seed_above, flooded highest interior first; each mask part
    without a seed is one object."""
    seeds, count = ndimage.label(mask & (interior > seed_above), EIGHT)
    labels = _flood(mask, interior, seeds)
    rest, _ = ndimage.label(mask & (labels == 0), EIGHT)
    labels[rest > 0] = count + rest[rest > 0]
    return _drop_small(labels, min_area)


def split(method, nucleus_logit, cue_logit, threshold, min_area=10):
    """Instances by the sidecar's method: "contour" (cue = boundary logit, seeds below `threshold`), "core" (cue =
    core logit, seeds above `threshold`) or "components" (cue unused)."""
    mask = nucleus_logit > 0
    if method == "components":
        return components(mask, min_area)
    if method == "contour":
        return seeded_split(mask, 1 - sigmoid(cue_logit), 1 - threshold, min_area)
    if method == "core":
        return seeded_split(mask, sigmoid(cue_logit), threshold, min_area)
    raise ValueError(f"unknown instance method {method!r}")


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
