#include "nn/metrics.h"

#include <gtest/gtest.h>

namespace cryptounet::nn {
namespace {

TEST(Metrics, DiceIouAndAgreementOnKnownMasks) {
  io::Mask p(4, 2), t(4, 2);
  p.pixels = {1, 1, 1, 1, 0, 0, 0, 0};  // 4 predicted
  t.pixels = {0, 1, 1, 1, 1, 1, 1, 0};  // 6 true, 3 in common
  const SegmentationScores s = score_masks(p, t);
  EXPECT_DOUBLE_EQ(s.dice, 2.0 * 3 / 10);
  EXPECT_DOUBLE_EQ(s.iou, 3.0 / 7);
  EXPECT_DOUBLE_EQ(s.pixel_agreement, 4.0 / 8);  // pixels 1,2,3 and 7
  const SegmentationScores same = score_masks(t, t);
  EXPECT_DOUBLE_EQ(same.dice, 1);
  EXPECT_DOUBLE_EQ(same.iou, 1);
}

TEST(Metrics, EmptyMasksAndSizeMismatch) {
  io::Mask empty(3, 3);
  EXPECT_DOUBLE_EQ(score_masks(empty, empty).dice, 1);
  EXPECT_DOUBLE_EQ(score_masks(empty, empty).iou, 1);
  io::Mask one(3, 3);
  one.at(1, 1) = 1;
  EXPECT_DOUBLE_EQ(score_masks(empty, one).dice, 0);
  EXPECT_THROW(score_masks(empty, io::Mask(2, 3)), std::invalid_argument);
}

TEST(Metrics, ThresholdIsStrict) {
  io::Plane logits(3, 1);
  logits.pixels = {-0.5, 0.0, 0.25};
  EXPECT_EQ(threshold_logits(logits, 0.0).pixels, (std::vector<std::uint8_t>{0, 0, 1}));
}

}  // namespace
}  // namespace cryptounet::nn
