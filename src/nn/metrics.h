// Segmentation masks from logits, and their agreement with a reference mask.
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

}  // namespace cryptounet::nn
