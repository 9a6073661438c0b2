// Nuclei as objects: a binary mask split into instances on the client, after decryption (plaintext, no HE cost).
// Connected components, then a seeded watershed on the distance transform separates touching nuclei; a
// contour-aware model (nucleus and nucleus-boundary channels, DCAN) seeds the watershed from its boundary channel.
#pragma once

#include "io/image.h"

#include <string>
#include <vector>

namespace cryptounet::nn {

enum class Connectivity { Four = 4, Eight = 8 };

struct InstanceOptions {
  // Pixels of one object touch by an edge (Four) or also by a corner (Eight).
  Connectivity connectivity = Connectivity::Eight;
  // Split touching objects: markers are the h-maxima of the Euclidean distance to the background (regional maxima
  // that stand at least `h` pixels above every path to a higher one), flooded within the mask. Off: connected
  // components only. h = 5 scored best on the DSB2018 validation split (h 2-6 tried) with the bundled models.
  bool split_touching = true;
  double h = 5.0;
  // Objects smaller than this many pixels are dropped (noise, not nuclei).
  int min_area = 10;
  // Contour split only: a mask pixel may seed an object where the boundary probability is below this.
  double seed_below = 0.5;
};

// Instances of `mask`, labelled 1..K in raster order of their first pixel. Throws std::length_error above 65535
// objects (the 16-bit label range).
io::LabelImage label_instances(const io::Mask& mask, const InstanceOptions& options = {});

// Instances of `mask` split along the predicted nucleus boundaries (`boundary_probability` in [0, 1], same size):
// the seeds are the connected parts of the mask where the boundary probability is below `seed_below`; they flood
// the mask in order of increasing boundary probability, so objects meet on the boundary ridge. A part of the mask
// that holds no seed (all boundary) is one object. Uses `connectivity`, `min_area` and `seed_below`; labels and
// limits as above.
io::LabelImage label_instances(const io::Mask& mask, const io::Plane& boundary_probability,
                               const InstanceOptions& options = {});

// Exact Euclidean distance of every foreground pixel to the nearest background pixel; outside the image counts as
// background, so an object cut by the border peaks inside the field of view. Background pixels are 0.
io::Plane distance_to_background(const io::Mask& mask);

struct Instance {
  int label = 0;
  long area = 0;  // pixels
  double centroid_x = 0, centroid_y = 0;  // pixel centres, x to the right and y down from the top-left pixel
};

// One entry per label present, in label order.
std::vector<Instance> measure_instances(const io::LabelImage& labels);

// "label,area,centroid_x,centroid_y" and one row per instance.
std::string instances_csv(const std::vector<Instance>& instances);

}  // namespace cryptounet::nn
