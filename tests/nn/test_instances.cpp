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
  o.method = InstanceMethod::Components;
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
  o.method = InstanceMethod::Components;
  EXPECT_EQ(labels_in(label_instances(m, o)).size(), 1u);
  o.method = InstanceMethod::Watershed;
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

// Boundary probability as a contour-aware model is trained to predict it: high where the 3x3 neighbourhood spans
// more than one label (background included), low elsewhere. Mask pixels belong to the nearest circle's centre.
io::Plane label_boundaries(const io::Mask& m, const std::vector<std::array<double, 3>>& circles) {
  io::LabelImage labels(m.width, m.height);
  for (int y = 0; y < m.height; ++y)
    for (int x = 0; x < m.width; ++x) {
      if (!m.at(y, x)) continue;
      double nearest = std::numeric_limits<double>::infinity();
      for (std::size_t i = 0; i < circles.size(); ++i) {
        const double d = std::hypot(x - circles[i][0], y - circles[i][1]);
        if (d < nearest) nearest = d, labels.at(y, x) = static_cast<std::uint16_t>(i + 1);
      }
    }
  io::Plane p(m.width, m.height, 0.05);
  for (int y = 0; y < m.height; ++y)
    for (int x = 0; x < m.width; ++x)
      for (int dy = -1; dy <= 1; ++dy)
        for (int dx = -1; dx <= 1; ++dx) {
          const int ny = y + dy, nx = x + dx;
          const std::uint16_t other = ny < 0 || ny >= m.height || nx < 0 || nx >= m.width ? 0 : labels.at(ny, nx);
          if (other != labels.at(y, x)) p.at(y, x) = 0.9;
        }
  return p;
}

TEST(Instances, ContourSplitSeparatesTouchingNucleiAlongTheirBoundary) {
  // Overlapping disks: the distance transform sees one blob with a shallow neck, the boundary channel a ridge.
  const std::vector<std::array<double, 3>> circles = {{{18, 20, 12}}, {{38, 20, 12}}};
  const io::Mask m = disks(60, 40, circles);
  InstanceOptions o;
  o.method = InstanceMethod::Components;
  ASSERT_EQ(labels_in(label_instances(m, o)).size(), 1u);
  o.method = InstanceMethod::Contour;
  const io::LabelImage split = label_instances(m, label_boundaries(m, circles), o);
  ASSERT_EQ(labels_in(split).size(), 2u);
  for (int y = 0; y < m.height; ++y)
    for (int x = 0; x < m.width; ++x) {
      if (!m.at(y, x)) {
        EXPECT_EQ(split.at(y, x), 0);  // only the mask is labelled
      } else if (std::abs(x - 28) > 2) {  // away from the ridge each side belongs to its own disk
        EXPECT_EQ(split.at(y, x), x < 28 ? 1 : 2) << x << "," << y;
      }
    }
  // Without a boundary ridge the seeds join: one object.
  EXPECT_EQ(labels_in(label_instances(m, io::Plane(m.width, m.height, 0.05), o)).size(), 1u);
}

TEST(Instances, ContourSplitFloodsAlongLowBoundaryProbability) {
  // A bar with two seeds at its ends and a valley of boundary probability off centre: the objects meet on the ridge
  // (the highest probability), not half-way.
  io::Mask m(30, 5);
  io::Plane p(30, 5);
  for (int y = 0; y < 5; ++y)
    for (int x = 0; x < 30; ++x) {
      m.at(y, x) = 1;
      p.at(y, x) = x < 3 || x > 26 ? 0.1 : x == 20 ? 0.95 : 0.6;
    }
  InstanceOptions o;
  o.method = InstanceMethod::Contour;
  o.min_area = 0;
  const io::LabelImage split = label_instances(m, p, o);
  ASSERT_EQ(labels_in(split).size(), 2u);
  for (int x = 0; x < 30; ++x) EXPECT_EQ(split.at(2, x), x < 20 ? 1 : 2) << x;
}

TEST(Instances, ContourSplitKeepsUnseededObjectsAndDropsSmallOnes) {
  io::Mask m = disks(40, 20, {{{8, 10, 5}}, {{30, 10, 5}}});
  m.at(0, 39) = 1;  // a one-pixel speck
  io::Plane p(40, 20, 0.1);
  for (int y = 0; y < 20; ++y)
    for (int x = 20; x < 40; ++x) p.at(y, x) = std::nan("");  // right disk: no seed anywhere (NaN counts as boundary)
  InstanceOptions o;
  o.method = InstanceMethod::Contour;
  const io::LabelImage labels = label_instances(m, p, o);
  EXPECT_EQ(labels_in(labels), (std::set<std::uint16_t>{1, 2}));
  EXPECT_EQ(labels.at(10, 8), 1);
  EXPECT_EQ(labels.at(10, 30), 2);
  EXPECT_EQ(labels.at(0, 39), 0);
  EXPECT_THROW(label_instances(m, io::Plane(39, 20), o), std::invalid_argument);
  o.method = InstanceMethod::Core;  // NaN counts as no core either
  EXPECT_EQ(labels_in(label_instances(m, p, o)), (std::set<std::uint16_t>{1, 2}));
}

// A core channel for disks: probability 0.9 where a pixel lies `erosion` px inside one disk and that far from every
// other (each disk shrunk on its own, as train/data.py's nucleus_core), 0.1 elsewhere.
io::Plane core_probability(int width, int height, const std::vector<std::array<double, 3>>& circles, double erosion) {
  io::Plane p(width, height, 0.1);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      int inside = 0, near = 0;
      for (const auto& [cx, cy, r] : circles) {
        inside += std::hypot(x - cx, y - cy) <= r - erosion;
        near += std::hypot(x - cx, y - cy) <= r + erosion;
      }
      if (inside == 1 && near == 1) p.at(y, x) = 0.9;
    }
  return p;
}

TEST(Instances, CoreSplitSeedsOneNucleusPerCore) {
  const std::vector<std::array<double, 3>> circles = {{{18, 20, 12}}, {{38, 20, 12}}};
  const io::Mask m = disks(60, 40, circles);
  const io::Plane core = core_probability(m.width, m.height, circles, 2);
  InstanceOptions o;
  o.method = InstanceMethod::Core;
  const io::LabelImage split = label_instances(m, core, o);
  ASSERT_EQ(labels_in(split).size(), 2u);
  for (int y = 0; y < m.height; ++y)
    for (int x = 0; x < m.width; ++x) {
      if (!m.at(y, x)) {
        EXPECT_EQ(split.at(y, x), 0);
      } else if (std::abs(x - 28) > 2) {
        EXPECT_EQ(split.at(y, x), x < 28 ? 1 : 2) << x << "," << y;
      }
    }
  o.seed_threshold = 0.95;  // no pixel is that sure to be core: no seed, the mask part is one object
  EXPECT_EQ(labels_in(label_instances(m, core, o)).size(), 1u);
}

TEST(Instances, MethodNamesAndChannelNeeds) {
  for (InstanceMethod m : {InstanceMethod::Components, InstanceMethod::Watershed, InstanceMethod::Contour,
                           InstanceMethod::Core})
    EXPECT_EQ(parse_instance_method(instance_method_name(m)), m);
  EXPECT_THROW(parse_instance_method("distance"), std::invalid_argument);
  InstanceOptions o;
  o.method = InstanceMethod::Core;
  EXPECT_THROW(label_instances(io::Mask(4, 4), o), std::invalid_argument);  // needs the channel
  o.method = InstanceMethod::Components;  // the channel is ignored by the mask-only methods
  EXPECT_TRUE(labels_in(label_instances(io::Mask(4, 4), io::Plane(4, 4, 0.9), o)).empty());
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
