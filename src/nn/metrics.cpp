#include "nn/metrics.h"

#include <stdexcept>

namespace cryptounet::nn {

io::Mask threshold_logits(const io::Plane& logits, double threshold) {
  io::Mask mask(logits.width, logits.height);
  for (std::size_t j = 0; j < mask.pixels.size(); ++j) mask.pixels[j] = logits.pixels[j] > threshold ? 1 : 0;
  return mask;
}

SegmentationScores score_masks(const io::Mask& predicted, const io::Mask& truth) {
  if (predicted.width != truth.width || predicted.height != truth.height)
    throw std::invalid_argument("score_masks: predicted " + std::to_string(predicted.width) + "x" +
                                std::to_string(predicted.height) + " vs truth " + std::to_string(truth.width) + "x" +
                                std::to_string(truth.height));
  std::size_t both = 0, p = 0, t = 0, same = 0;
  for (std::size_t j = 0; j < truth.pixels.size(); ++j) {
    const bool a = predicted.pixels[j] != 0, b = truth.pixels[j] != 0;
    both += a && b;
    p += a;
    t += b;
    same += a == b;
  }
  SegmentationScores s;
  const std::size_t uni = p + t - both;
  s.dice = p + t == 0 ? 1.0 : 2.0 * static_cast<double>(both) / static_cast<double>(p + t);
  s.iou = uni == 0 ? 1.0 : static_cast<double>(both) / static_cast<double>(uni);
  s.pixel_agreement = truth.pixels.empty() ? 1.0 : static_cast<double>(same) / static_cast<double>(truth.pixels.size());
  return s;
}

}  // namespace cryptounet::nn
