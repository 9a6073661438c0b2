#include "nn/metrics.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

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

// Labels from rows of characters: '.' background, any other character its own object (its code is the label).
io::LabelImage labels_from(const std::vector<std::string>& rows) {
  io::LabelImage out(static_cast<int>(rows[0].size()), static_cast<int>(rows.size()));
  for (int y = 0; y < out.height; ++y)
    for (int x = 0; x < out.width; ++x) out.at(y, x) = rows[y][x] == '.' ? 0 : static_cast<unsigned char>(rows[y][x]);
  return out;
}

TEST(DsbAveragePrecision, PerfectAndEmpty) {
  const io::LabelImage truth = labels_from({"aa..b", "aa..b"});
  EXPECT_DOUBLE_EQ(dsb_average_precision(truth, truth), 1.0);
  EXPECT_DOUBLE_EQ(dsb_average_precision(labels_from({"zz..y", "zz..y"}), truth), 1.0);  // label values are names
  const io::LabelImage none = labels_from({".....", "....."});
  EXPECT_DOUBLE_EQ(dsb_average_precision(none, none), 1.0);
  EXPECT_DOUBLE_EQ(dsb_average_precision(none, truth), 0.0);
  EXPECT_DOUBLE_EQ(dsb_average_precision(truth, none), 0.0);
  EXPECT_THROW(dsb_average_precision(truth, io::LabelImage(4, 2)), std::invalid_argument);
}

TEST(DsbAveragePrecision, IouMustExceedTheThreshold) {
  // IoU 6/10: a match at t = 0.50 and 0.55 only (0.6 is not > 0.6): 2 of 10 thresholds score 1.
  EXPECT_DOUBLE_EQ(dsb_average_precision(labels_from({"pppppp...."}), labels_from({"tttttttttt"})), 0.2);
  // IoU exactly 0.5 matches at no threshold: TP 0, FP 1, FN 1.
  EXPECT_DOUBLE_EQ(dsb_average_precision(labels_from({"ppppp....."}), labels_from({"tttttttttt"})), 0.0);
}

TEST(DsbAveragePrecision, SplitMergeFalsePositiveAndPartialMatch) {
  // A nucleus split in two halves: neither half has IoU > 0.5, so TP 0, FP 2, FN 1 everywhere.
  EXPECT_DOUBLE_EQ(dsb_average_precision(labels_from({"aaaaabbbbb"}), labels_from({"tttttttttt"})), 0.0);
  // One exact match plus a spurious object: TP 1, FP 1, FN 0 at every threshold.
  EXPECT_DOUBLE_EQ(dsb_average_precision(labels_from({"aaa...b"}), labels_from({"ttt...."})), 0.5);
  // A exact; B predicted as 8 of its 10 pixels (IoU 0.8): thresholds 0.50-0.75 score 2/2, 0.80-0.95 score
  // TP 1 / (TP 1 + FP 1 + FN 1).
  const io::LabelImage truth = labels_from({"aaaaaaaaaa", "bbbbbbbbbb"});
  const io::LabelImage predicted = labels_from({"xxxxxxxxxx", "yyyyyyyy.."});
  EXPECT_NEAR(dsb_average_precision(predicted, truth), (6 * 1.0 + 4 * (1.0 / 3)) / 10, 1e-15);
}

}  // namespace
}  // namespace cryptounet::nn
