#include "nn/instances.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <limits>
#include <set>

namespace cryptounet::nn {
namespace {

io::Mask disks(int w, int h, const std::vector<std::array<double, 3>>& circles) {  // {cx, cy, r}
  io::Mask m(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (const auto& [cx, cy, r] : circles)
        if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r) m.at(y, x) = 1;
  return m;
}

std::set<std::uint16_t> labels_in(const io::LabelImage& labels) {
  std::set<std::uint16_t> s(labels.pixels.begin(), labels.pixels.end());
  s.erase(0);
  return s;
}

TEST(Instances, DistanceTransformMatchesBruteForce) {
  io::Mask m(23, 17);
  for (int y = 0; y < m.height; ++y)
    for (int x = 0; x < m.width; ++x) m.at(y, x) = ((x * 7 + y * 13) % 11 != 0) && !(x == 5 && y > 3);
  const io::Plane d = distance_to_background(m);
  for (int y = 0; y < m.height; ++y)
    for (int x = 0; x < m.width; ++x) {
      // Nearest background pixel, where the one-pixel ring around the image is background too.
      double best = std::numeric_limits<double>::infinity();
      for (int by = -1; by <= m.height; ++by)
        for (int bx = -1; bx <= m.width; ++bx) {
          const bool inside = by >= 0 && by < m.height && bx >= 0 && bx < m.width;
          if (inside && m.at(by, bx)) continue;
          best = std::min(best, std::hypot(double(bx - x), double(by - y)));
        }
      EXPECT_DOUBLE_EQ(d.at(y, x), m.at(y, x) ? best : 0.0) << x << "," << y;
    }
}

TEST(Instances, ConnectivityDecidesWhetherCornersJoin) {
  io::Mask m(4, 4);
  m.at(0, 0) = m.at(1, 1) = 1;  // touch only by a corner
  InstanceOptions o;
  o.split_touching = false;
  o.min_area = 0;
  o.connectivity = Connectivity::Eight;
  EXPECT_EQ(labels_in(label_instances(m, o)).size(), 1u);
  o.connectivity = Connectivity::Four;
  const io::LabelImage four = label_instances(m, o);
  EXPECT_EQ(four.at(0, 0), 1);  // raster order of first pixel
  EXPECT_EQ(four.at(1, 1), 2);
}

TEST(Instances, WatershedSplitsTouchingNucleiThatComponentsMerge) {
  // Two disks overlapping by one pixel: distance peaks ~12.5 either side of a neck ~3.5 high, a dynamic above h.
  const io::Mask m = disks(64, 40, {{{18, 20, 12.5}}, {{42, 20, 12.5}}});
  InstanceOptions o;
  o.split_touching = false;
  EXPECT_EQ(labels_in(label_instances(m, o)).size(), 1u);
  o.split_touching = true;
  const io::LabelImage split = label_instances(m, o);
  ASSERT_EQ(labels_in(split).size(), 2u);
  EXPECT_EQ(split.at(20, 18), 1);
  EXPECT_EQ(split.at(20, 42), 2);
  for (int y = 0; y < m.height; ++y)
    for (int x = 0; x < m.width; ++x) {
      if (!m.at(y, x)) {
        EXPECT_EQ(split.at(y, x), 0);
      } else if (x < 29 || x > 31) {  // away from the neck each side goes to its own disk
        EXPECT_EQ(split.at(y, x), x < 30 ? 1 : 2) << x << "," << y;
      }
    }
  const auto measured = measure_instances(split);
  ASSERT_EQ(measured.size(), 2u);
  EXPECT_NEAR(measured[0].area, measured[1].area, 10);  // symmetric up to the tie-broken neck
  // A marker height above the dynamic keeps them together.
  o.h = 10;
  EXPECT_EQ(labels_in(label_instances(m, o)).size(), 1u);
}

TEST(Instances, OneConvexObjectStaysWhole) {
  // A rectangle's distance ridge and a disk's pixelated rim make several close maxima; h suppresses them.
  io::Mask m(40, 30);
  for (int y = 5; y < 17; ++y)
    for (int x = 3; x < 35; ++x) m.at(y, x) = 1;
  EXPECT_EQ(labels_in(label_instances(m)).size(), 1u);
  EXPECT_EQ(labels_in(label_instances(disks(40, 40, {{{19.5, 19.5, 15}}}))).size(), 1u);
}

TEST(Instances, SmallObjectsAreDroppedAndEmptyMaskHasNone) {
  io::Mask m = disks(30, 30, {{{10, 10, 5}}});
  m.at(25, 25) = m.at(25, 26) = 1;  // a 2-pixel speck
  InstanceOptions o;
  o.min_area = 3;
  const io::LabelImage labels = label_instances(m, o);
  EXPECT_EQ(labels_in(labels), (std::set<std::uint16_t>{1}));
  EXPECT_EQ(labels.at(25, 25), 0);
  EXPECT_TRUE(labels_in(label_instances(io::Mask(8, 8))).empty());
}

TEST(Instances, AreaCentroidAndCsv) {
  io::LabelImage labels(6, 4);
  for (int y = 1; y < 3; ++y)
    for (int x = 0; x < 3; ++x) labels.at(y, x) = 1;  // 3x2 block, centre (1, 1.5)
  labels.at(3, 5) = 4;                                // labels need not be consecutive
  const auto measured = measure_instances(labels);
  ASSERT_EQ(measured.size(), 2u);
  EXPECT_EQ(measured[0].label, 1);
  EXPECT_EQ(measured[0].area, 6);
  EXPECT_DOUBLE_EQ(measured[0].centroid_x, 1.0);
  EXPECT_DOUBLE_EQ(measured[0].centroid_y, 1.5);
  EXPECT_EQ(measured[1].label, 4);
  EXPECT_EQ(instances_csv(measured), "label,area,centroid_x,centroid_y\n1,6,1.000,1.500\n4,1,5.000,3.000\n");
}

}  // namespace
}  // namespace cryptounet::nn
