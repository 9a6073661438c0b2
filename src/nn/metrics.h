// Segmentation masks from logits, their agreement with a reference mask, and instance-level average precision.
#pragma once

#include "io/image.h"

namespace cryptounet::nn {

// Foreground where logit > threshold.
io::Mask threshold_logits(const io::Plane& logits, double threshold);

struct SegmentationScores {
  double dice = 0;             // 2|P n T| / (|P| + |T|)
  double iou = 0;              // |P n T| / |P u T|
  double pixel_agreement = 0;  // fraction of pixels with the same label
};

// Dice and IoU are 1 when both masks are empty (as in train/train.py's dice_iou). Sizes must match.
SegmentationScores score_masks(const io::Mask& predicted, const io::Mask& truth);

// The 2018 Data Science Bowl score of one image: the mean over IoU thresholds t = 0.50, 0.55, ..., 0.95 of
// TP(t) / (TP(t) + FP(t) + FN(t)), where a predicted and a true object match when their IoU > t (one-to-one, since
// t >= 0.5 lets an object match at most one other), TP counts matched pairs, FP unmatched predictions and FN
// unmatched true objects. The data set's score is the mean over images. Labels need not be consecutive; 0 is
// background. An image with no object in either is 1 (nothing to find, nothing found). Sizes must match.
double dsb_average_precision(const io::LabelImage& predicted, const io::LabelImage& truth);

// The IoU thresholds of the DSB score, 0.50 to 0.95 in steps of 0.05.
inline constexpr double kDsbIouThresholds[] = {0.50, 0.55, 0.60, 0.65, 0.70, 0.75, 0.80, 0.85, 0.90, 0.95};

}  // namespace cryptounet::nn
