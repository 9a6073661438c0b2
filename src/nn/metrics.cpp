#include "nn/metrics.h"

#include <cstdint>
#include <stdexcept>
#include <unordered_map>
#include <vector>

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

double dsb_average_precision(const io::LabelImage& predicted, const io::LabelImage& truth) {
  if (predicted.width != truth.width || predicted.height != truth.height)
    throw std::invalid_argument("dsb_average_precision: predicted " + std::to_string(predicted.width) + "x" +
                                std::to_string(predicted.height) + " vs truth " + std::to_string(truth.width) + "x" +
                                std::to_string(truth.height));
  std::vector<long> predicted_area(65536, 0), true_area(65536, 0);
  std::unordered_map<std::uint32_t, long> overlap;  // (predicted << 16 | true) -> pixels in both
  for (std::size_t j = 0; j < truth.pixels.size(); ++j) {
    const std::uint16_t p = predicted.pixels[j], t = truth.pixels[j];
    ++predicted_area[p];
    ++true_area[t];
    if (p && t) ++overlap[static_cast<std::uint32_t>(p) << 16 | t];
  }
  long predicted_count = 0, true_count = 0;
  for (std::size_t l = 1; l < 65536; ++l) {
    predicted_count += predicted_area[l] > 0;
    true_count += true_area[l] > 0;
  }
  if (predicted_count == 0 && true_count == 0) return 1.0;

  std::vector<double> pair_iou;
  for (const auto& [key, both] : overlap) {
    const long uni = predicted_area[key >> 16] + true_area[key & 0xffff] - both;
    pair_iou.push_back(static_cast<double>(both) / static_cast<double>(uni));
  }
  double sum = 0;
  for (const double t : kDsbIouThresholds) {
    long tp = 0;
    for (const double iou : pair_iou) tp += iou > t;
    const long fp = predicted_count - tp, fn = true_count - tp;
    sum += static_cast<double>(tp) / static_cast<double>(tp + fp + fn);
  }
  return sum / static_cast<double>(std::size(kDsbIouThresholds));
}

}  // namespace cryptounet::nn
